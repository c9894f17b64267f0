package dev.palettizer.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtException;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.OnnxOutput;
import dev.palettizer.engine.Progress;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.Ort;
import dev.palettizer.io.TinyOnnx;
import dev.palettizer.model.DType;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecResolver;
import dev.palettizer.spec.WeightDecision;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The facade on ONNX models (issue 3, "finalize(format, ...) to compressed safetensors or ONNX"): a
 * model opened from .onnx is prepared, calibrated and finalized to compressed or dense ONNX, and gives
 * byte for byte the files the command-line path writes for the same choice of tensors and the same
 * sensitivities. The model is {@link TinyOnnx#mixed}: a MatMul weight stored [in, out] (clustered
 * transposed), a Gemm, a Gather, a Conv and a FLOAT16 weight, opset 17.
 */
class KMeansPalettizerOnnxTest {
    private static final PalettizationSpec SPEC = PalettizationSpec.defaults();
    /** Every weight of two or more dimensions, as the command line's threshold 0 without --include-1d. */
    private static final SpecResolver TWO_D = site -> site.shape().length >= 2
            ? WeightDecision.palettize(SPEC, true, 4, "2-D") : WeightDecision.leave("not 2-D");
    private static final String MATMUL = "onnx::MatMul_1";

    @TempDir
    Path dir;

    private Path model() throws IOException {
        return TinyOnnx.mixed(17, 8).write(dir.resolve("in.onnx"));
    }

    private static PrepareOptions quiet() {
        return PrepareOptions.defaults().withWorkers(2).withProgress(ProgressOutput.NONE);
    }

    private static void viaCommandLine(Path in, Path out, OnnxOutput output, Path sensitivities) throws IOException {
        try (Palettizer p = Palettizer.builder().workers(2).build()) {
            p.palettizeOnnx(in, out, new FileJobOptions(SpecResolver.uniform(SPEC, true, 4), 0, false, sensitivities),
                    output, Progress.NONE);
        }
    }

    @Test
    void anOnnxModelFinalizesToTheFilesTheCommandLineWrites() throws IOException {
        Path in = model();
        byte[] original = Files.readAllBytes(in);
        try (ModelWeights weights = ModelWeights.open(in);
             KMeansPalettizer palettizer = new KMeansPalettizer(weights, TWO_D)) {
            ModelWeights.Weight matmul = weights.weight(MATMUL).orElseThrow();
            assertTrue(matmul.transposed(), "a MatMul weight stored [in, out] is clustered as [out, in]");
            assertArrayEquals(new long[] {64, 96}, matmul.shape());
            PreparedModel prepared = palettizer.prepare(quiet());
            assertEquals(List.of(MATMUL, "dec.weight", "emb.weight", "conv.weight", "half.weight"),
                    List.copyOf(prepared.palettized().keySet()));
            assertArrayEquals(new long[] {96, 64}, prepared.palettized(MATMUL).orElseThrow().shape());

            palettizer.finalize(ExportFormat.ONNX, dir.resolve("facade.onnx")).close();
            palettizer.finalize(ExportFormat.DENSE_ONNX, dir.resolve("facade.dense.onnx")).close();
        }
        viaCommandLine(in, dir.resolve("cli.onnx"), OnnxOutput.COMPRESSED, null);
        viaCommandLine(in, dir.resolve("cli.dense.onnx"), OnnxOutput.DENSE, null);
        assertArrayEquals(Files.readAllBytes(dir.resolve("cli.onnx")), Files.readAllBytes(dir.resolve("facade.onnx")));
        assertArrayEquals(Files.readAllBytes(dir.resolve("cli.dense.onnx")),
                Files.readAllBytes(dir.resolve("facade.dense.onnx")));
        assertArrayEquals(original, Files.readAllBytes(in), "the input is never modified");
    }

    /** ONNX Runtime runs both exports alike, and the prepared weights are the ones the dense graph holds. */
    @Test
    void theExportsRunInOnnxRuntimeWithThePreparedWeights() throws IOException, OrtException {
        Path in = model();
        Map<String, float[]> prepared;
        try (ModelWeights weights = ModelWeights.open(in);
             KMeansPalettizer palettizer = new KMeansPalettizer(weights, TWO_D)) {
            prepared = palettizer.prepare(quiet()).denseWeights();
            palettizer.finalize(ExportFormat.ONNX, dir.resolve("c.onnx")).close();
            palettizer.finalize(ExportFormat.DENSE_ONNX, dir.resolve("d.onnx")).close();
        }
        Map<String, ByteBuffer> compressed = Ort.runMixed(dir.resolve("c.onnx"), 5);
        Map<String, ByteBuffer> dense = Ort.runMixed(dir.resolve("d.onnx"), 5);
        for (String output : List.of("Y", "Y2", "E", "C", "H")) {
            float[] a = Ort.floats(compressed.get(output));
            float[] b = Ort.floats(dense.get(output));
            for (int i = 0; i < a.length; i++) {
                assertEquals(b[i], a[i], 1e-5f, output + "[" + i + "]");
            }
        }
        // Stored order: the graph's own copy of each weight (through Identity) equals what prepare returned.
        for (String w : List.of(MATMUL, "dec.weight", "emb.weight", "conv.weight")) {
            assertArrayEquals(Ort.floats(dense.get("w_" + w)), prepared.get(w), w);
        }
    }

    /**
     * Gradients arrive in the stored [in, out] order of the MatMul weight, and the facade weights its
     * transposed clustering by them exactly as the command line does with the saved sensitivity file.
     */
    @Test
    void calibrationOnAnOnnxModelMatchesTheCommandLineWithTheSavedSensitivities() throws IOException {
        Path in = model();
        Path sensitivities = dir.resolve("sens.safetensors");
        PalettizedTensor unweighted;
        PalettizedTensor weighted;
        try (ModelWeights weights = ModelWeights.open(in);
             KMeansPalettizer palettizer = new KMeansPalettizer(weights, TWO_D)) {
            unweighted = palettizer.prepare(quiet()).palettized(MATMUL).orElseThrow();
            SplittableRandom r = new SplittableRandom(11);
            try (Calibration calibration = palettizer.calibrate()) {
                for (int step = 0; step < 3; step++) {
                    Map<String, float[]> gradients = new LinkedHashMap<>();
                    for (String name : List.of(MATMUL, "dec.weight")) {
                        float[] g = new float[(int) weights.weight(name).orElseThrow().elementCount()];
                        // Rows of the stored matrix differ in importance by up to 100x.
                        int cols = (int) weights.weight(name).orElseThrow().shape()[1];
                        for (int i = 0; i < g.length; i++) {
                            g[i] = (float) (r.nextGaussian() * (1 + (i / cols) % 10) * (1 + (i / cols) % 10));
                        }
                        gradients.put(name, g);
                    }
                    calibration.addGradients(gradients);
                }
            }
            weighted = palettizer.prepared().palettized(MATMUL).orElseThrow();
            palettizer.saveSensitivities(sensitivities);
        }
        assertFalse(Arrays.equals(unweighted.lut(), weighted.lut()), "the gradients changed the LUT");
        viaCommandLine(in, dir.resolve("cli.onnx"), OnnxOutput.COMPRESSED, sensitivities);
        PalettizedTensor viaCli = Palettizer.inspectOnnx(dir.resolve("cli.onnx")).palettized().stream()
                .map(w -> w.tensor()).filter(t -> t.name().equals(MATMUL)).findFirst().orElseThrow();
        assertArrayEquals(weighted.lut(), viaCli.lut(), "calibrated LUT");
        assertArrayEquals(weighted.packedIndices(), viaCli.packedIndices(), "calibrated indices");

        // Prepared afresh from the saved file, the facade writes the command line's file byte for byte.
        try (ModelWeights weights = ModelWeights.open(in);
             KMeansPalettizer palettizer = new KMeansPalettizer(weights, TWO_D)) {
            palettizer.prepare(quiet().withSensitivities(sensitivities));
            palettizer.finalize(ExportFormat.ONNX, dir.resolve("facade.onnx")).close();
        }
        assertArrayEquals(Files.readAllBytes(dir.resolve("cli.onnx")), Files.readAllBytes(dir.resolve("facade.onnx")));
    }

    @Test
    void aMmapFolderHoldsTheFinalizedWeightsInTheirStoredShapes() throws IOException {
        Path in = model();
        Path mmap = dir.resolve("mmap");
        try (ModelWeights weights = ModelWeights.open(in);
             KMeansPalettizer palettizer = new KMeansPalettizer(weights, TWO_D)) {
            Map<String, float[]> expected = palettizer.prepare(quiet()).denseWeights();
            try (FinalizedModel f = palettizer.finalize(ExportFormat.ONNX, dir.resolve("model.pal.onnx"),
                    FinalizeOptions.defaults().withMmapDir(mmap))) {
                ModelWeights mapped = f.mapped().orElseThrow();
                assertEquals(mmap.resolve("model.pal.weights.safetensors"), mapped.file().orElseThrow());
                assertEquals(weights.weights().stream().map(ModelWeights.Weight::name).toList(),
                        mapped.weights().stream().map(ModelWeights.Weight::name).toList());
                for (ModelWeights.Weight w : mapped.weights()) {
                    ModelWeights.Weight original = weights.weight(w.name()).orElseThrow();
                    assertArrayEquals(original.shape(), w.shape(), w.name());
                    assertEquals(original.dtype(), w.dtype(), w.name());
                    if (w.isFloat()) {
                        float[] values = expected.get(w.name());
                        if (w.dtype() == DType.F16) {
                            // Written in the weight's own dtype: the F32 reconstruction rounded to half.
                            for (int i = 0; i < values.length; i++) {
                                values[i] = Float.float16ToFloat(Float.floatToFloat16(values[i]));
                            }
                        }
                        assertArrayEquals(values, w.toFloatArray(), w.name());
                    }
                }
                assertNotEquals(0, mapped.weight(MATMUL).orElseThrow().toFloatArray()[1]);
            }
        }
    }

    @Test
    void formatsAndFilesThatCannotBeWrittenAreRefusedAndNothingIsLost() throws IOException {
        Path in = model();
        byte[] original = Files.readAllBytes(in);
        try (ModelWeights weights = ModelWeights.open(in);
             KMeansPalettizer palettizer = new KMeansPalettizer(weights, TWO_D)) {
            palettizer.prepare(quiet());
            UnsupportedOperationException safetensors = assertThrows(UnsupportedOperationException.class,
                    () -> palettizer.finalize(ExportFormat.COMPRESSED_SAFETENSORS, dir.resolve("m.safetensors")));
            assertTrue(safetensors.getMessage().contains("is an ONNX model: finalize it to ExportFormat.ONNX"),
                    safetensors.getMessage());
            IllegalArgumentException overwrite = assertThrows(IllegalArgumentException.class,
                    () -> palettizer.finalize(ExportFormat.ONNX, in));
            assertTrue(overwrite.getMessage().contains("is an input of this palettizer"), overwrite.getMessage());
            palettizer.finalize(ExportFormat.ONNX, dir.resolve("c.onnx")).close();
        }
        assertArrayEquals(original, Files.readAllBytes(in));
        assertFalse(Files.exists(dir.resolve("m.safetensors")));
        ModelFormatException compressed = assertThrows(ModelFormatException.class,
                () -> ModelWeights.open(dir.resolve("c.onnx")));
        assertTrue(compressed.getMessage().contains("already holds palettized weights"), compressed.getMessage());

        ModelWeights arrays = ModelWeights.builder().add("fc.weight", new float[64 * 64], 64, 64).build();
        try (KMeansPalettizer palettizer = new KMeansPalettizer(arrays, TWO_D)) {
            palettizer.prepare(quiet());
            UnsupportedOperationException noGraph = assertThrows(UnsupportedOperationException.class,
                    () -> palettizer.finalize(ExportFormat.ONNX, dir.resolve("a.onnx")));
            assertTrue(noGraph.getMessage().startsWith("ONNX output needs a model opened from an .onnx file"),
                    noGraph.getMessage());
        }
    }
}
