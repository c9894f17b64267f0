package dev.palettizer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import dev.palettizer.backend.JavaBackend;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.OnnxCompressedFormat;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.io.OnnxType;
import dev.palettizer.io.Ort;
import dev.palettizer.io.TinyOnnx;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecResolver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outlier lists in compressed ONNX beyond {@link OnnxPalettizerTest}'s cases: BFLOAT16 weights (values
 * stored as BFLOAT16, cast to float before the ScatterND), and damaged position lists on reading.
 */
class OnnxOutlierTest {
    private static ForkJoinPool pool;
    private static OnnxPalettizer onnx;
    private static ModelPalettizer models;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        pool = new ForkJoinPool(2);
        models = new ModelPalettizer(new JavaBackend(pool), EngineOptions.defaults(), pool);
        onnx = new OnnxPalettizer(models, pool);
    }

    @AfterAll
    static void tearDown() {
        pool.close();
    }

    private static FileJobOptions job(PalettizationSpec spec) {
        return new FileJobOptions(SpecResolver.uniform(spec, true, 4), 256, false, null);
    }

    @Test
    void bfloat16OutliersRunInOrtAndEqualTheDenseModel() throws Exception {
        Path in = TinyOnnx.of(13, 8).input("X", TinyOnnx.FLOAT, 2, 64)
                .initializer(TinyOnnx.halves("bf.weight", TinyOnnx.BFLOAT16, TinyOnnx.laplace(64 * 48, 0.1, 9), 64, 48))
                .node("Cast", "/bf/Cast", List.of("bf.weight"), "wf", TinyOnnx.intAttr("to", TinyOnnx.FLOAT))
                .node("MatMul", "/bf/MatMul", List.of("X", "wf"), "Y")
                .node("Identity", "/id", List.of("bf.weight"), "W")
                .output("Y", TinyOnnx.FLOAT).output("W", TinyOnnx.BFLOAT16)
                .write(dir.resolve("bf.onnx"));
        Path compressed = dir.resolve("bfc.onnx");
        Path dense = dir.resolve("bfd.onnx");
        FileJobOptions job = job(PalettizationSpec.defaults().withBits(2).withOutlierFraction(0.02));
        onnx.palettize(in, compressed, job, OnnxOutput.COMPRESSED, Progress.NONE);
        onnx.palettize(in, dense, job, OnnxOutput.DENSE, Progress.NONE);
        try (OnnxModel m = OnnxModel.open(compressed)) {
            assertEquals(OnnxType.BFLOAT16, m.initializer("bf.weight.outlier_values").orElseThrow().type());
            assertArrayEquals(new long[] {61, 1}, m.initializer("bf.weight.outlier_positions").orElseThrow().shape());
            PalettizedTensor t = OnnxCompressedFormat.read(m).palettized().getFirst().tensor();
            assertEquals(61, t.outliers().count());
        }
        float[] x = new float[128];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 7) - 3;
        }
        var env = ai.onnxruntime.OrtEnvironment.getEnvironment();
        try (var xt = ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(x), new long[] {2, 64})) {
            Map<String, ByteBuffer> a = Ort.run(compressed, Map.of("X", xt));
            Map<String, ByteBuffer> b = Ort.run(dense, Map.of("X", xt));
            assertEquals(b.get("W"), a.get("W"), "weights bit for bit");
            assertEquals(b.get("Y"), a.get("Y"), "outputs bit for bit");
        }
    }

    @Test
    void damagedPositionsAreRefusedNamingFileTensorAndField() throws Exception {
        Path in = TinyOnnx.mixed(13, 8).write(dir.resolve("in.onnx"));
        Path compressed = dir.resolve("c.onnx");
        onnx.palettize(in, compressed, job(PalettizationSpec.defaults().withGranularity(Granularity.perChannel(0))
                .withOutlierFraction(0.01)), OnnxOutput.COMPRESSED, Progress.NONE);
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(compressed));
        String field = "onnx::MatMul_1.outlier_positions";
        GraphProto.Builder g = m.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto t = g.getInitializer(i);
            if (t.getName().equals(field)) {
                ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                ByteBuffer swapped = ByteBuffer.allocate(raw.remaining()).order(ByteOrder.LITTLE_ENDIAN);
                swapped.putInt(raw.getInt(4)).putInt(raw.getInt(0));
                while (swapped.hasRemaining()) {
                    swapped.putInt(raw.getInt(swapped.position()));
                }
                g.setInitializer(i, t.toBuilder().setRawData(ByteString.copyFrom(swapped.array())));
            }
        }
        Path bad = dir.resolve("bad.onnx");
        Files.write(bad, m.toBuilder().setGraph(g).build().toByteArray());
        try (OnnxModel model = OnnxModel.open(bad)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> OnnxCompressedFormat.read(model));
            assertTrue(e.getMessage().startsWith(bad + ": tensor '" + field + "': position[1] = "), e.getMessage());
            assertTrue(e.getMessage().endsWith("; positions must be strictly ascending"), e.getMessage());
        }
        Path restored = dir.resolve("restored.onnx");
        assertThrows(ModelFormatException.class, () -> onnx.decompress(bad, restored));
        assertTrue(Files.notExists(restored), "no output");
    }
}
