package dev.palettizer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.WeightSite;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading ONNX models: every storage form of float data, external data, sites, and bad files. */
class OnnxModelTest {
    @TempDir
    Path dir;

    private static float[] read(FloatSource s) {
        float[] out = new float[(int) s.size()];
        s.read(0, out, 0, out.length);
        return out;
    }

    @Test
    void readsEveryStorageFormOfFloats() throws Exception {
        float[] v = TinyOnnx.laplace(64, 0.1, 1);
        float[] half = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            half[i] = Float.float16ToFloat(Float.floatToFloat16(v[i]));
        }
        Path file = TinyOnnx.of(13, 8)
                .initializer(TinyOnnx.floats("raw", v, 8, 8))
                .initializer(TinyOnnx.floatData("typed", v, 8, 8))
                .initializer(TinyOnnx.halves("half", TinyOnnx.FLOAT16, v, 8, 8))
                .initializer(TinyOnnx.halvesInInt32("half32", v, 8, 8))
                .initializer(TinyOnnx.raw("ints", TinyOnnx.INT64, new byte[16], 2))
                .write(dir.resolve("m.onnx"));
        try (OnnxModel m = OnnxModel.open(file)) {
            assertArrayEquals(v, read(m.initializer("raw").orElseThrow().floats()), 0f);
            assertArrayEquals(v, read(m.initializer("typed").orElseThrow().floats()), 0f);
            assertArrayEquals(half, read(m.initializer("half").orElseThrow().floats()), 0f);
            assertArrayEquals(half, read(m.initializer("half32").orElseThrow().floats()), 0f);
            OnnxInitializer ints = m.initializer("ints").orElseThrow();
            assertFalse(ints.type().isPalettizable());
            ModelFormatException e = assertThrows(ModelFormatException.class, ints::floats);
            assertTrue(e.getMessage().contains("'ints'") && e.getMessage().contains("data_type INT64"), e.getMessage());
        }
    }

    @Test
    void readsExternalDataFromTheMapping() throws Exception {
        Path file = TinyOnnx.mixed(13, 8).writeExternal(dir.resolve("x.onnx"), "x.bin");
        try (OnnxModel ext = OnnxModel.open(file);
             OnnxModel embedded = OnnxModel.open(TinyOnnx.mixed(13, 8).write(dir.resolve("e.onnx")))) {
            assertTrue(ext.usesExternalData());
            assertEquals(List.of(dir.resolve("x.bin").toAbsolutePath().normalize()), ext.externalFiles());
            for (OnnxInitializer t : embedded.initializers()) {
                OnnxInitializer e = ext.initializer(t.name()).orElseThrow();
                assertArrayEquals(read(t.floats()), read(e.floats()), 0f, t.name());
            }
        }
    }

    @Test
    void describesSitesFromNamesAndConsumers() throws Exception {
        try (OnnxModel m = OnnxModel.open(TinyOnnx.mixed(13, 8).write(dir.resolve("m.onnx")))) {
            assertSite(m, "onnx::MatMul_1", "encoder.layer.0.dense", "Linear", "MatMul", "weight", true);
            assertSite(m, "encoder.layer.0.dense.bias", "encoder.layer.0.dense", "Linear", "Add", "bias", false);
            assertSite(m, "dec.weight", "dec", "Linear", "Gemm", "weight", false);
            assertSite(m, "emb.weight", "emb", "Embedding", "Gather", "weight", false);
            assertSite(m, "conv.weight", "conv", "Conv2d", "Conv", "weight", false);
            assertSite(m, "half.weight", "half", "", "Cast", "weight", false);
            WeightSite s = m.initializer("onnx::MatMul_1").orElseThrow().site();
            assertEquals("/encoder/layer.0/dense/MatMul", s.opName());
        }
    }

    private static void assertSite(OnnxModel m, String tensor, String module, String moduleType, String opType,
                                   String state, boolean transposed) {
        OnnxInitializer t = m.initializer(tensor).orElseThrow();
        WeightSite s = t.site();
        assertEquals(List.of(tensor, module, moduleType, opType, state),
                List.of(s.tensorName(), s.moduleName(), s.moduleType(), s.opType(), s.stateName()));
        assertEquals(transposed, t.transposed(), tensor);
    }

    @Test
    void gemmWithoutTransBIsSeenTransposed() throws Exception {
        Path file = TinyOnnx.of(13, 8).input("X", TinyOnnx.FLOAT, 2, 8)
                .initializer(TinyOnnx.floats("onnx::Gemm_7", new float[8 * 4], 8, 4))
                .node("Gemm", "/head/Gemm", List.of("X", "onnx::Gemm_7"), "Y").output("Y", TinyOnnx.FLOAT)
                .write(dir.resolve("g.onnx"));
        try (OnnxModel m = OnnxModel.open(file)) {
            assertSite(m, "onnx::Gemm_7", "head", "Linear", "Gemm", "weight", true);
            assertArrayEquals(new long[] {4, 8}, m.initializer("onnx::Gemm_7").orElseThrow().engineShape());
        }
    }

    // ---------------------------------------------------------------- bad files: one line naming file, tensor, field

    private ModelFormatException failure(Path file) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxModel.open(file).close());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(file.toString()), "names the file: " + e.getMessage());
        return e;
    }

    private Path withTensor(String name, UnaryOperator<TensorProto> edit) throws IOException {
        ModelProto m = TinyOnnx.mixed(13, 8).build();
        var graph = m.getGraph().toBuilder();
        for (int i = 0; i < graph.getInitializerCount(); i++) {
            if (graph.getInitializer(i).getName().equals(name)) {
                graph.setInitializer(i, edit.apply(graph.getInitializer(i)));
            }
        }
        Path file = dir.resolve("bad.onnx");
        Files.write(file, m.toBuilder().setGraph(graph).build().toByteArray());
        return file;
    }

    @Test
    void truncatedFile() throws Exception {
        byte[] full = TinyOnnx.mixed(13, 8).build().toByteArray();
        Path file = dir.resolve("t.onnx");
        Files.write(file, Arrays.copyOf(full, full.length - 1000));
        assertTrue(failure(file).getMessage().contains("truncated"));
    }

    @Test
    void notAModel() throws Exception {
        Path file = dir.resolve("empty.onnx");
        Files.write(file, new byte[0]);
        assertTrue(failure(file).getMessage().contains("field graph: missing"));
    }

    @Test
    void unsupportedDataType() throws Exception {
        Path file = withTensor("dec.weight", t -> t.toBuilder().setDataType(99).build());
        String m = failure(file).getMessage();
        assertTrue(m.contains("tensor 'dec.weight'") && m.contains("field data_type: 99"), m);
    }

    @Test
    void rawDataOfTheWrongLength() throws Exception {
        Path file = withTensor("emb.weight", t -> t.toBuilder().setRawData(t.getRawData().substring(4)).build());
        String m = failure(file).getMessage();
        assertTrue(m.contains("tensor 'emb.weight'") && m.contains("field raw_data: holds 12796 bytes"), m);
    }

    @Test
    void dimsWhoseBytesOverflowALong() throws Exception {
        // 2^61 floats: the element count fits a long, their 2^64 bytes do not (a Jazzer finding)
        Path file = withTensor("emb.weight", t -> t.toBuilder().clearDims().addDims(1L << 61).build());
        String m = failure(file).getMessage();
        assertTrue(m.contains("tensor 'emb.weight'") && m.contains("field dims: [2305843009213693952]"), m);
    }

    @Test
    void missingExternalFile() throws Exception {
        Path file = TinyOnnx.mixed(13, 8).writeExternal(dir.resolve("x.onnx"), "x.bin");
        Files.delete(dir.resolve("x.bin"));
        String m = failure(file).getMessage();
        assertTrue(m.contains("tensor 'onnx::MatMul_1'") && m.contains("field external_data.location: 'x.bin': no such file"), m);
    }

    @Test
    void truncatedExternalFile() throws Exception {
        Path file = TinyOnnx.mixed(13, 8).writeExternal(dir.resolve("x.onnx"), "x.bin");
        byte[] data = Files.readAllBytes(dir.resolve("x.bin"));
        Files.write(dir.resolve("x.bin"), Arrays.copyOf(data, data.length - 100));
        String m = failure(file).getMessage();
        assertTrue(m.contains("field external_data.offset") && m.contains("truncated"), m);
    }

    @Test
    void externalLocationOutsideTheModelFolder() throws Exception {
        Path file = withTensor("dec.weight", t -> t.toBuilder().clearRawData()
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue("../etc/passwd")).build());
        String m = failure(file).getMessage();
        assertTrue(m.contains("tensor 'dec.weight'") && m.contains("inside the model's folder"), m);
    }
}
