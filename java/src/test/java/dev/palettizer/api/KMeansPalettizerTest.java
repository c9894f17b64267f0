package dev.palettizer.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.engine.EngineOptions;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.Progress;
import dev.palettizer.engine.Sensitivities;
import dev.palettizer.engine.TensorInput;
import dev.palettizer.io.CompressedModel;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.SegmentSource;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import dev.palettizer.spec.SpecResolver;
import dev.palettizer.spec.WeightDecision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The facade's workflow (issue 3, "The facade"): prepare, calibrate, save and load sensitivities, finalize. */
class KMeansPalettizerTest {
    /** 2-bit, one LUT per 16 output channels: fc2.weight's 10 rows do not split into such groups. */
    private static final PalettizationSpec SPEC = PalettizationSpec.defaults().withBits(2)
            .withGranularity(Granularity.grouped(0, 16));
    /** Palettizes states named "weight" in fast mode (as the seed's default config), leaves the rest. */
    private static final SpecResolver WEIGHTS_ONLY = site -> site.stateName().equals("weight")
            ? WeightDecision.palettize(SPEC, true, 4, "weights rule")
            : WeightDecision.leave("not a weight");

    @TempDir
    Path dir;

    /** A trainer's arrays: fc1 [64, 32] and fc3 [32, 64] fit the spec, fc2 [10, 64] does not, biases are left. */
    private static Map<String, float[]> arrays() {
        Map<String, float[]> a = new LinkedHashMap<>();
        a.put("fc1.weight", laplace(64 * 32, 1));
        a.put("fc1.bias", laplace(64, 2));
        a.put("fc2.weight", laplace(10 * 64, 3));
        a.put("fc3.weight", laplace(32 * 64, 4));
        return a;
    }

    private static final Map<String, long[]> SHAPES = Map.of("fc1.weight", new long[] {64, 32},
            "fc1.bias", new long[] {64}, "fc2.weight", new long[] {10, 64}, "fc3.weight", new long[] {32, 64});

    private static ModelWeights model(Map<String, float[]> arrays) {
        ModelWeights.Builder b = ModelWeights.builder();
        arrays.forEach((name, values) -> b.add(name, values, SHAPES.get(name)));
        return b.build();
    }

    static float[] laplace(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double u = r.nextDouble() - 0.5;
            out[i] = (float) (-0.05 * Math.signum(u) * Math.log(1 - 2 * Math.abs(u)));
        }
        return out;
    }

    private static PrepareOptions quiet() {
        return PrepareOptions.defaults().withWorkers(2).withProgress(ProgressOutput.NONE);
    }

    /** The tensor as the engine palettizes it on its own, the oracle for the facade. */
    private static PalettizedTensor direct(String name, float[] values, float[] sensitivities) {
        try (Palettizer p = Palettizer.builder().workers(1).options(EngineOptions.defaults()).build()) {
            TensorInput in = TensorInput.of(name, values, SHAPES.get(name));
            return p.palettize(sensitivities == null ? in : in.withSensitivities(new FloatArraySource(sensitivities)), SPEC);
        }
    }

    private static void assertSameTensor(PalettizedTensor expected, PalettizedTensor actual) {
        assertArrayEquals(expected.lut(), actual.lut(), expected.name() + " LUT");
        assertArrayEquals(expected.packedIndices(), actual.packedIndices(), expected.name() + " indices");
    }

    @Test
    void prepareFollowsTheResolverAndReportsSkippedTensors() throws IOException {
        Map<String, float[]> a = arrays();
        try (KMeansPalettizer palettizer = new KMeansPalettizer(model(a), WEIGHTS_ONLY)) {
            PreparedModel prepared = palettizer.prepare(quiet());
            assertEquals(List.of("fc1.weight", "fc3.weight"), List.copyOf(prepared.palettized().keySet()));
            assertEquals(List.of("fc2.weight"), List.copyOf(prepared.skipped().keySet()));
            assertTrue(prepared.skipped().get("fc2.weight").contains("group_size 16 does not divide the 10 channels"),
                    prepared.skipped().get("fc2.weight"));
            for (String name : List.of("fc1.weight", "fc3.weight")) {
                PalettizedTensor expected = direct(name, a.get(name), null);
                assertSameTensor(expected, prepared.palettized(name).orElseThrow());
                try (Palettizer p = Palettizer.builder().workers(1).build()) {
                    assertArrayEquals(p.reconstruct(expected), prepared.weights(name), name);
                }
            }
            assertArrayEquals(a.get("fc1.bias"), prepared.weights("fc1.bias"), "left alone");
            assertArrayEquals(a.get("fc2.weight"), prepared.weights("fc2.weight"), "skipped");
            assertEquals(4, prepared.denseWeights().size());
            assertEquals("not a weight", prepared.report().get(1).reason());
            assertEquals("weights rule; unweighted", prepared.report().get(0).reason());
        }
    }

    @Test
    void preparingTwiceOrWithoutWorkersIsAnError() throws IOException {
        try (KMeansPalettizer palettizer = new KMeansPalettizer(model(arrays()), WEIGHTS_ONLY)) {
            palettizer.prepare(quiet());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> palettizer.prepare(quiet()));
            assertTrue(e.getMessage().contains("already been prepared"), e.getMessage());
        }
        SpecException e = assertThrows(SpecException.class, () -> quiet().withWorkers(0));
        assertEquals("workers must be >= 1, got 0", e.getMessage());
    }

    @Test
    void progressListenerHearsOfEveryTensorClustered() throws IOException {
        List<String> done = new ArrayList<>();
        long[] total = {0};
        Progress listener = new Progress() {
            @Override
            public void start(long totalElements) {
                total[0] = totalElements;
            }

            @Override
            public synchronized void done(String tensor, long elements) {
                done.add(tensor);
            }
        };
        try (KMeansPalettizer palettizer = new KMeansPalettizer(model(arrays()), WEIGHTS_ONLY)) {
            palettizer.prepare(quiet().withProgress(new ProgressOutput.Listener(listener)));
        }
        assertEquals(List.of("fc1.weight", "fc2.weight", "fc3.weight"), done.stream().sorted().toList());
        assertEquals(64 * 32 + 10 * 64 + 32 * 64, total[0]);
    }

    @Test
    void calibrationNeedsAPreparedModelAndAtLeastOneStep() throws IOException {
        try (KMeansPalettizer palettizer = new KMeansPalettizer(model(arrays()), WEIGHTS_ONLY)) {
            assertThrows(IllegalStateException.class, palettizer::calibrate);
            PreparedModel before = palettizer.prepare(quiet());
            Calibration c = palettizer.calibrate();
            assertThrows(IllegalStateException.class, palettizer::calibrate, "one calibration at a time");
            IllegalStateException e = assertThrows(IllegalStateException.class, c::close);
            assertTrue(e.getMessage().contains("no gradients"), e.getMessage());
            assertEquals(before, palettizer.prepared(), "unchanged");
            IllegalStateException save = assertThrows(IllegalStateException.class,
                    () -> palettizer.saveSensitivities(dir.resolve("s.safetensors")));
            assertTrue(save.getMessage().startsWith("no sensitivities to save"), save.getMessage());
            Calibration again = palettizer.calibrate(); // a failed calibration leaves none open
            assertThrows(IllegalStateException.class, again::close);
        }
    }

    @Test
    void gradientsMustNameAWeightAndMatchItsLength() throws IOException {
        try (KMeansPalettizer palettizer = new KMeansPalettizer(model(arrays()), WEIGHTS_ONLY)) {
            palettizer.prepare(quiet());
            try (Calibration c = palettizer.calibrate()) {
                IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                        () -> c.addGradient("fc9.weight", new float[4]));
                assertTrue(unknown.getMessage().startsWith("tensor 'fc9.weight': the model has no float weight"),
                        unknown.getMessage());
                IllegalArgumentException length = assertThrows(IllegalArgumentException.class,
                        () -> c.addGradients(Map.of("fc1.weight", new float[64 * 32], "fc3.weight", new float[5])));
                assertEquals("tensor 'fc3.weight': gradient holds 5 values but the weight has 2048 elements",
                        length.getMessage());
                assertEquals(0, c.steps(), "a rejected step adds nothing");
                c.addGradient("fc1.bias", new float[64]);
            }
        }
    }

    @Test
    void calibrationRecomputesTheLutsWeightedByNormalisedSquaredGradients() throws IOException {
        Map<String, float[]> a = arrays();
        List<Map<String, float[]>> steps = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            Map<String, float[]> g = new LinkedHashMap<>();
            // Gradients that grow with |w|, so that weighting moves the centroids outwards.
            for (String name : List.of("fc1.weight", "fc1.bias", "fc2.weight", "fc3.weight")) {
                float[] noise = laplace(a.get(name).length, 100 + s);
                float[] w = a.get(name);
                float[] grad = new float[w.length];
                for (int i = 0; i < w.length; i++) {
                    grad[i] = noise[i] * w[i] * w[i] * 400;
                }
                g.put(name, grad);
            }
            steps.add(g);
        }
        try (KMeansPalettizer palettizer = new KMeansPalettizer(model(a), WEIGHTS_ONLY)) {
            PreparedModel unweighted = palettizer.prepare(quiet());
            try (Calibration c = palettizer.calibrate()) {
                steps.forEach(c::addGradients);
            }
            PreparedModel weighted = palettizer.prepared();
            for (String name : List.of("fc1.weight", "fc3.weight")) {
                float[] sum = new float[a.get(name).length];
                for (Map<String, float[]> g : steps) {
                    float[] grad = g.get(name);
                    for (int i = 0; i < sum.length; i++) {
                        sum[i] += grad[i] * grad[i];
                    }
                }
                PalettizedTensor expected = direct(name, a.get(name), Sensitivities.normalize(sum));
                assertSameTensor(expected, weighted.palettized(name).orElseThrow());
                assertFalse(Arrays.equals(unweighted.palettized(name).orElseThrow().lut(), expected.lut()),
                        name + ": weighting changed the LUT");
                assertTrue(weighted.report().stream().filter(r -> r.name().equals(name)).findFirst().orElseThrow()
                        .reason().endsWith("weighted by calibration (3 steps)"));
            }
            assertEquals(unweighted.skipped(), weighted.skipped());

            Path saved = dir.resolve("sens.safetensors");
            palettizer.saveSensitivities(saved);
            try (SafetensorsFile f = SafetensorsFile.open(saved)) {
                assertEquals(List.of("fc1.weight", "fc3.weight"), f.tensors().stream().map(SafetensorsFile.Entry::name).toList());
                assertArrayEquals(new long[] {64, 32}, f.tensor("fc1.weight").orElseThrow().shape());
            }
            // A fresh palettizer prepared from the saved file reproduces the calibrated LUTs.
            try (KMeansPalettizer again = new KMeansPalettizer(model(a), WEIGHTS_ONLY)) {
                PreparedModel fromFile = again.prepare(quiet().withSensitivities(saved));
                for (String name : List.of("fc1.weight", "fc3.weight")) {
                    assertSameTensor(weighted.palettized(name).orElseThrow(), fromFile.palettized(name).orElseThrow());
                }
            }
        }
    }

    @Test
    void sensitivityFileWithTheWrongShapeNamesFileAndTensor() throws IOException {
        Path sens = dir.resolve("bad.safetensors");
        new SafetensorsWriter().add(new SafetensorsWriter.Tensor("fc3.weight", DType.F32, new long[] {64, 32},
                SafetensorsWriter.Payload.ofFloats(new float[64 * 32]))).write(sens);
        try (KMeansPalettizer palettizer = new KMeansPalettizer(model(arrays()), WEIGHTS_ONLY)) {
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> palettizer.prepare(quiet().withSensitivities(sens)));
            assertEquals(sens + ": tensor 'fc3.weight': sensitivities have shape [64, 32] but the weight has shape [32, 64]",
                    e.getMessage());
            assertThrows(IllegalStateException.class, palettizer::prepared, "a failed prepare prepares nothing");
        }
    }

    @Test
    void finalizeWritesTheCompressedFileAtomically() throws IOException {
        Map<String, float[]> a = arrays();
        Path out = dir.resolve("model.pal.safetensors");
        try (KMeansPalettizer palettizer = new KMeansPalettizer(model(a), WEIGHTS_ONLY)) {
            assertThrows(IllegalStateException.class, () -> palettizer.finalize(ExportFormat.COMPRESSED_SAFETENSORS, out));
            PreparedModel prepared = palettizer.prepare(quiet());
            try (FinalizedModel f = palettizer.finalize(ExportFormat.COMPRESSED_SAFETENSORS, out)) {
                assertEquals(out, f.output());
                assertTrue(f.mapped().isEmpty());
            }
            CompressedModel written = Palettizer.inspect(out);
            assertEquals(List.of("fc1.bias", "fc2.weight"), written.plainTensors());
            for (PalettizedTensor t : written.palettized()) {
                assertSameTensor(prepared.palettized(t.name()).orElseThrow(), t);
            }
            try (Stream<Path> files = Files.list(dir)) {
                assertEquals(List.of(out), files.toList(), "no temporary file left behind");
            }
            UnsupportedOperationException onnx = assertThrows(UnsupportedOperationException.class,
                    () -> palettizer.finalize(ExportFormat.ONNX, dir.resolve("m.onnx")));
            assertTrue(onnx.getMessage().startsWith("ONNX output needs a model opened from an .onnx file"), onnx.getMessage());
            assertFalse(Files.exists(dir.resolve("m.onnx")));
        }
    }

    @Test
    void finalizeWithAMmapFolderReturnsWeightsReadFromTheMappedFile() throws IOException {
        Map<String, float[]> a = arrays();
        Path mmap = dir.resolve("mmap");
        try (KMeansPalettizer palettizer = new KMeansPalettizer(model(a), WEIGHTS_ONLY)) {
            PreparedModel prepared = palettizer.prepare(quiet());
            Map<String, float[]> expected = prepared.denseWeights();
            try (FinalizedModel f = palettizer.finalize(ExportFormat.COMPRESSED_SAFETENSORS,
                    dir.resolve("model.pal.safetensors"), FinalizeOptions.defaults().withMmapDir(mmap))) {
                ModelWeights mapped = f.mapped().orElseThrow();
                assertEquals(mmap.resolve("model.pal.weights.safetensors"), mapped.file().orElseThrow());
                // The trainer releases its dense arrays (here: overwrites them); the mapped weights stay.
                a.values().forEach(v -> Arrays.fill(v, Float.NaN));
                for (ModelWeights.Weight w : mapped.weights()) {
                    SegmentSource source = assertInstanceOf(SegmentSource.class, w.values());
                    assertTrue(source.data().isMapped(), w.name() + " is a view of the mapped file");
                    float[] values = new float[(int) w.elementCount()];
                    source.read(0, values, 0, values.length);
                    assertArrayEquals(expected.get(w.name()), values, w.name());
                }
                assertEquals(List.copyOf(expected.keySet()), mapped.weights().stream().map(ModelWeights.Weight::name).toList());
                assertNotEquals(0, expected.get("fc1.bias")[0]);
            }
        }
    }

    @Test
    void aMappedSafetensorsModelGivesTheSameFileAsTheCommandLinePath() throws IOException {
        Path in = dir.resolve("model.safetensors");
        SafetensorsWriter w = new SafetensorsWriter().putMetadata("origin", "test");
        arrays().forEach((name, values) -> w.add(new SafetensorsWriter.Tensor(name, DType.F32, SHAPES.get(name),
                SafetensorsWriter.Payload.ofFloats(values))));
        w.add(new SafetensorsWriter.Tensor("position_ids", DType.I64, new long[] {2},
                SafetensorsWriter.Payload.of(new byte[16])));
        w.write(in);
        // Both palettize every 2-D float tensor with the same spec (the command line by threshold 0, no 1-D).
        SpecResolver twoD = site -> site.shape().length == 2
                ? WeightDecision.palettize(SPEC, true, 4, "2-D") : WeightDecision.leave("not 2-D");
        Path viaFacade = dir.resolve("facade.safetensors");
        Path viaCli = dir.resolve("cli.safetensors");
        try (ModelWeights model = ModelWeights.open(in);
             KMeansPalettizer palettizer = new KMeansPalettizer(model, twoD)) {
            palettizer.prepare(quiet());
            palettizer.finalize(ExportFormat.COMPRESSED_SAFETENSORS, viaFacade).close();
        }
        try (Palettizer p = Palettizer.builder().workers(2).build()) {
            p.palettizeFile(in, viaCli, new FileJobOptions(SpecResolver.uniform(SPEC, true, 4), 0, false, null), Progress.NONE);
        }
        assertArrayEquals(Files.readAllBytes(viaCli), Files.readAllBytes(viaFacade));
    }

    @Test
    void builderChecksLengthsAndNames() {
        SpecException length = assertThrows(SpecException.class,
                () -> ModelWeights.builder().add("fc.weight", new float[5], 2, 3));
        assertEquals("tensor 'fc.weight': shape [2, 3] needs 6 values but the array holds 5", length.getMessage());
        IllegalArgumentException dup = assertThrows(IllegalArgumentException.class,
                () -> ModelWeights.builder().add("w", new float[1], 1).add("w", new float[1], 1).build());
        assertEquals("duplicate tensor name 'w'", dup.getMessage());
    }
}
