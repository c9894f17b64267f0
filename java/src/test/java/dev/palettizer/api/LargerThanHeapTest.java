package dev.palettizer.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.engine.SyntheticModel;
import dev.palettizer.engine.TensorInput;
import dev.palettizer.io.CompressedModel;
import dev.palettizer.io.OnnxCompressedModel;
import dev.palettizer.io.OnnxInitializer;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.io.TinyOnnx;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.model.DType;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.PalettizationSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3, must-show 5 (facade part): the facade palettizes and finalizes a model file larger than
 * the JVM heap it is given. A 336 MiB F32 safetensors model (84 M weights, tensors up to 16 MiB), and
 * a 320 MiB ONNX model with external data, run through prepare and finalize with a mmap folder in a
 * child JVM capped at {@value #HEAP}; one tensor of each is then checked against the engine
 * palettizing it here.
 */
class LargerThanHeapTest {
    private static final String HEAP = "-Xmx128m";
    private static final SyntheticModel.Shape SHAPE = new SyntheticModel.Shape(5, 1024, 4096, 4096, DType.F32);

    @TempDir
    Path dir;

    @Test
    void facadeRunsOnAModelLargerThanItsHeap() throws Exception {
        Path model = dir.resolve("model.safetensors");
        SyntheticModel.write(model, SHAPE, 7);
        long heapBytes = 128L << 20;
        assertTrue(Files.size(model) > 2.5 * heapBytes, "model file " + Files.size(model) + " bytes");

        Path out = dir.resolve("model.pal.safetensors");
        Path mmap = dir.resolve("mmap");
        runChild(model, out, mmap, ExportFormat.COMPRESSED_SAFETENSORS);

        CompressedModel written = Palettizer.inspect(out);
        assertEquals(1 + 7 * SHAPE.layers(), written.palettized().size(), "every 2-D tensor palettized");
        String name = "layers.2.mlp.up_proj.weight";
        try (SafetensorsFile f = SafetensorsFile.open(model);
             Palettizer p = Palettizer.builder().workers(2).build()) {
            SafetensorsFile.Entry e = f.tensor(name).orElseThrow();
            PalettizedTensor expected = p.palettize(new TensorInput(name, e.dtype(), e.shape(), e.floats(), null),
                    PalettizationSpec.defaults());
            PalettizedTensor actual = written.palettized(name).orElseThrow();
            assertArrayEquals(expected.lut(), actual.lut());
            assertArrayEquals(expected.packedIndices(), actual.packedIndices());
        }
        try (SafetensorsFile dense = SafetensorsFile.open(mmap.resolve("model.pal.weights.safetensors"))) {
            assertEquals(List.of(), written.plainTensors().stream().filter(n -> dense.tensor(n).isEmpty()).toList());
            assertEquals(Files.size(model), dense.tensors().stream().mapToLong(t -> t.data().byteSize()).sum()
                    + headerAndPadding(model), "the dense file holds every weight in its dtype");
        }
    }

    /**
     * The same on ONNX: a 320 MiB model of 20 MatMul weights ([1024, 4096] and [4096, 1024], clustered
     * transposed) in an external data file, finalized to compressed ONNX with a mmap folder; one weight
     * is checked against the engine palettizing its transposed view here.
     */
    @Test
    void facadeRunsOnAnOnnxModelLargerThanItsHeap() throws Exception {
        TinyOnnx graph = TinyOnnx.of(17, 8).input("X", TinyOnnx.FLOAT, 1, 1024);
        String previous = "X";
        for (int i = 0; i < 20; i++) {
            long rows = i % 2 == 0 ? 1024 : 4096;
            long cols = 4096 * 1024 / rows;
            String weight = "layers." + i + ".weight";
            graph.initializer(TinyOnnx.floats(weight, TinyOnnx.laplace((int) (rows * cols), 0.02, i), rows, cols))
                    .node("MatMul", "/layers." + i + "/MatMul", List.of(previous, weight), "h" + i);
            previous = "h" + i;
        }
        Path model = graph.output(previous, TinyOnnx.FLOAT).writeExternal(dir.resolve("model.onnx"), "model.onnx.data");
        long modelBytes = Files.size(model) + Files.size(dir.resolve("model.onnx.data"));
        assertTrue(modelBytes > 2.5 * (128L << 20), "model " + modelBytes + " bytes");

        Path out = dir.resolve("model.pal.onnx");
        Path mmap = dir.resolve("mmap");
        runChild(model, out, mmap, ExportFormat.ONNX);

        OnnxCompressedModel written = Palettizer.inspectOnnx(out);
        assertEquals(20, written.palettized().size(), "every weight palettized");
        String name = "layers.3.weight";
        try (OnnxModel m = OnnxModel.open(model); Palettizer p = Palettizer.builder().workers(2).build()) {
            OnnxInitializer t = m.initializer(name).orElseThrow();
            assertTrue(t.transposed());
            PalettizedTensor expected = p.palettize(new TensorInput(name, DType.F32, t.engineShape(), t.engineFloats(),
                    null), PalettizationSpec.defaults());
            PalettizedTensor actual = written.palettized().stream().map(OnnxCompressedModel.Weight::tensor)
                    .filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            assertArrayEquals(expected.lut(), actual.lut());
            assertArrayEquals(expected.packedIndices(), actual.packedIndices());
        }
        try (SafetensorsFile dense = SafetensorsFile.open(mmap.resolve("model.pal.weights.safetensors"))) {
            assertEquals(20, dense.tensors().size());
            assertArrayEquals(new long[] {4096, 1024}, dense.tensor(name).orElseThrow().shape(), "stored shape");
        }
    }

    private void runChild(Path model, Path out, Path mmap, ExportFormat format) throws Exception {
        Path log = dir.resolve("child.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, HEAP, "-XX:+UseParallelGC", "-cp", System.getProperty("java.class.path"),
                LargerThanHeapChild.class.getName(), model.toString(), out.toString(), mmap.toString(), format.name())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(child.waitFor(5, TimeUnit.MINUTES), "child finished");
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, child.exitValue(), output);
        System.out.println("larger-than-heap child (" + HEAP + ", " + format + "): " + output.strip());
    }

    /** Bytes of the input before its data section (same tensors, so the dense file's data equals the input's). */
    private static long headerAndPadding(Path model) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(model)) {
            return Files.size(model) - f.tensors().stream().mapToLong(t -> t.data().byteSize()).sum();
        }
    }
}
