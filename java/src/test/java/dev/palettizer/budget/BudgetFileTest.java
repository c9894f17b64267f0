package dev.palettizer.budget;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.OnnxOutput;
import dev.palettizer.engine.Progress;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.Ort;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.io.TinyOnnx;
import dev.palettizer.model.DType;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import dev.palettizer.spec.SpecResolver;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Budgets on written files: everything counted, predicted against achieved, determinism, bad budgets, ONNX. */
class BudgetFileTest {
    private static final long[][] SHAPES = {{64, 256}, {128, 256}, {96, 128}};
    private static final String[] NAMES = {"a.weight", "b.weight", "c.weight"};
    private static Palettizer palettizer;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        palettizer = Palettizer.builder().backend("java").workers(2).build();
    }

    @AfterAll
    static void stop() {
        palettizer.close();
    }

    /** Three weights of different spreads and tails, and a bias the default rules leave alone. */
    private Path model() throws Exception {
        Path p = dir.resolve("m.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        SplittableRandom r = new SplittableRandom(7);
        for (int t = 0; t < NAMES.length; t++) {
            int n = (int) (SHAPES[t][0] * SHAPES[t][1]);
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                double g = r.nextGaussian() * 0.02 * (t + 1);
                v[i] = (float) (t == 1 && r.nextInt(100) == 0 ? g * 8 : g); // b has outliers
            }
            w.add(new SafetensorsWriter.Tensor(NAMES[t], DType.F32, SHAPES[t], SafetensorsWriter.Payload.ofFloats(v)));
        }
        w.add(new SafetensorsWriter.Tensor("c.bias", DType.F32, new long[] {96},
                SafetensorsWriter.Payload.ofFloats(new float[96])));
        w.write(p);
        return p;
    }

    /** E[x_j^2]-like sensitivities: one value per input column, times {@code scale[t]} per tensor. */
    private Path sensitivities(double[] scale, int tensors) throws Exception {
        Path p = dir.resolve("s" + scale[0] + ".safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        SplittableRandom r = new SplittableRandom(11);
        for (int t = 0; t < tensors; t++) {
            int rows = (int) SHAPES[t][0];
            int cols = (int) SHAPES[t][1];
            float[] col = new float[cols];
            for (int j = 0; j < cols; j++) {
                col[j] = (float) (scale[t] * Math.exp(r.nextGaussian()));
            }
            float[] s = new float[rows * cols];
            for (int i = 0; i < s.length; i++) {
                s[i] = col[i % cols];
            }
            w.add(new SafetensorsWriter.Tensor(NAMES[t], DType.F32, SHAPES[t], SafetensorsWriter.Payload.ofFloats(s)));
        }
        w.write(p);
        return p;
    }

    private static FileJobOptions job(Path sensitivities) {
        return new FileJobOptions(SpecResolver.uniform(PalettizationSpec.defaults(), true, 4), 2048, false, sensitivities);
    }

    private MixedBitsPalettizerResult run(Path in, Path out, double bits, Path sens) throws Exception {
        return run(in, out, new BitBudget(bits), sens);
    }

    private MixedBitsPalettizerResult run(Path in, Path out, BitBudget budget, Path sens) throws Exception {
        return new MixedBitsPalettizerResult(palettizer.palettizeWithin(in, out, job(sens), budget,
                OnnxOutput.COMPRESSED, Progress.NONE, Progress.NONE));
    }

    private record MixedBitsPalettizerResult(MixedBitsPalettizer.Result r) {
        BudgetReport budget() {
            return r.budget();
        }

        List<TensorReport> tensors() {
            return r.tensors();
        }
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(doubles = {1.5, 2.5, 3.5, 4.5, 5.5, 8})
    void budgetHoldsWithEverythingStoredCounted(double bits) throws Exception {
        Path in = model();
        Path out = dir.resolve("out.safetensors");
        MixedBitsPalettizerResult res = run(in, out, bits, sensitivities(new double[] {1, 1, 1}, 3));
        BudgetReport b = res.budget();
        long kept = res.tensors().stream().filter(t -> !t.palettized()).mapToLong(TensorReport::bytesAfter).sum();
        long weights = res.tensors().stream().filter(TensorReport::palettized).mapToLong(TensorReport::elements).sum();
        assertEquals(3, b.rows().size());
        assertEquals(weights, b.plan().weights());
        double fileBits = 8.0 * (Files.size(out) - kept) / weights;
        assertEquals(fileBits, b.fileBits(), 1e-12);
        assertTrue(fileBits <= bits, fileBits + " > " + bits);
        assertTrue(b.plan().plannedBits() <= bits + 1e-12);
        long stored = res.tensors().stream().filter(TensorReport::palettized).mapToLong(TensorReport::bytesAfter).sum();
        assertEquals(b.plan().allocation().bytes(), stored, "the run stored what the plan priced");
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().startsWith(".")).toList(),
                    "no scratch folder or temporary file left");
        }
        for (BudgetReport.Row r : b.rows()) {
            // Fast-mode curves, fast-mode run: the run rebuilds the priced tensors exactly.
            assertEquals(r.predictedError(), r.achievedError(), 0, r.name());
        }
        assertEquals(b.predictedError(), b.achievedError(), 1e-9 * b.predictedError());
        assertTrue(b.plan().allocation().gap() >= 0);
    }

    @Test
    void moreBitsNeverPredictMoreErrorAndTheTopBudgetIsNearLossless() throws Exception {
        Path in = model();
        Path sens = sensitivities(new double[] {1, 1, 1}, 3);
        double previous = Double.POSITIVE_INFINITY;
        for (double bits : new double[] {2, 3, 4, 6, 8}) {
            BudgetReport b = run(in, dir.resolve("o" + bits + ".safetensors"), bits, sens).budget();
            assertTrue(b.plan().allocation().lowerBound() <= previous, "the LP bound falls with the budget");
            previous = b.plan().allocation().lowerBound();
        }
    }

    @Test
    void sameInputSameBits() throws Exception {
        Path in = model();
        Path sens = sensitivities(new double[] {1, 3, 0.5}, 3);
        run(in, dir.resolve("x.safetensors"), 3.7, sens);
        run(in, dir.resolve("y.safetensors"), 3.7, sens);
        assertArrayEquals(Files.readAllBytes(dir.resolve("x.safetensors")), Files.readAllBytes(dir.resolve("y.safetensors")));
    }

    @Test
    void underTheOutputMeasureATensorThatMattersMoreGetsMoreBits() throws Exception {
        Path in = model();
        BitBudget output = new BitBudget(3, ErrorMeasure.OUTPUT);
        BudgetReport even = run(in, dir.resolve("even.safetensors"), output, sensitivities(new double[] {1, 1, 1}, 3))
                .budget();
        BudgetReport heavy = run(in, dir.resolve("heavy.safetensors"), output, sensitivities(new double[] {1e4, 1, 1}, 3))
                .budget();
        double evenA = even.rows().getFirst().bitsPerWeight();
        double heavyA = heavy.rows().getFirst().bitsPerWeight();
        assertTrue(heavyA > evenA, "a weighted 1e4 times more gets more bits: " + heavyA + " vs " + evenA);
    }

    @Test
    void theRelativeMeasureIgnoresEachTensorsScaleOfSensitivities() throws Exception {
        Path in = model();
        FileJobOptions even = job(sensitivities(new double[] {1, 1, 1}, 3));
        FileJobOptions heavy = job(sensitivities(new double[] {1e4, 1, 1}, 3));
        BitBudget budget = new BitBudget(3, ErrorMeasure.RELATIVE);
        BudgetReport a = palettizer.palettizeWithin(in, dir.resolve("ra.safetensors"), even, budget,
                OnnxOutput.COMPRESSED, Progress.NONE, Progress.NONE).budget();
        BudgetReport b = palettizer.palettizeWithin(in, dir.resolve("rb.safetensors"), heavy, budget,
                OnnxOutput.COMPRESSED, Progress.NONE, Progress.NONE).budget();
        assertEquals(a.rows().stream().map(r -> r.bits() + r.granularity()).toList(),
                b.rows().stream().map(r -> r.bits() + r.granularity()).toList());
        for (int i = 0; i < a.rows().size(); i++) {
            assertEquals(a.rows().get(i).predictedError(), b.rows().get(i).predictedError(),
                    1e-5 * a.rows().get(i).predictedError(), "a noise-to-signal ratio has no units");
            assertEquals(b.rows().get(i).predictedError(), b.rows().get(i).achievedError(), 0);
        }
    }

    @Test
    void theRelativeMeasureWithoutSensitivitiesIsTheInverseSnr() throws Exception {
        Path in = model();
        MixedBitsPalettizer.Result res = palettizer.palettizeWithin(in, dir.resolve("rs.safetensors"), job(null),
                new BitBudget(4, ErrorMeasure.RELATIVE), OnnxOutput.COMPRESSED, Progress.NONE, Progress.NONE);
        for (BudgetReport.Row r : res.budget().rows()) {
            TensorReport t = res.tensors().stream().filter(x -> x.name().equals(r.name())).findFirst().orElseThrow();
            assertEquals(Math.pow(10, -t.snrDb() / 10), r.achievedError(), 1e-9 * r.achievedError());
        }
    }

    @Test
    void underTheOutputMeasureWithoutSensitivitiesTheErrorIsThePlainSse() throws Exception {
        Path in = model();
        MixedBitsPalettizerResult res = run(in, dir.resolve("u.safetensors"), new BitBudget(4, ErrorMeasure.OUTPUT), null);
        for (BudgetReport.Row r : res.budget().rows()) {
            TensorReport t = res.tensors().stream().filter(x -> x.name().equals(r.name())).findFirst().orElseThrow();
            assertEquals(t.sse(), r.achievedError(), 0);
        }
    }

    @Test
    void aBudgetTooSmallForTheCheapestChoiceFailsAndWritesNothing() throws Exception {
        Path in = model();
        Path out = dir.resolve("none.safetensors");
        SpecException e = assertThrows(SpecException.class, () -> run(in, out, 1.0, null));
        assertTrue(e.getMessage().contains("target_bits 1.0 cannot be met") && e.getMessage().contains("give at least"),
                e.getMessage());
        assertFalse(Files.exists(out));
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().startsWith(".")).toList(), "no temporary file");
        }
    }

    @Test
    void sensitivitiesForSomeTensorsOnlyAreRefused() throws Exception {
        Path in = model();
        Path out = dir.resolve("part.safetensors");
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> run(in, out, 4, sensitivities(new double[] {1, 1, 1}, 2)));
        assertTrue(e.getMessage().contains("'c.weight'") && e.getMessage().contains("1 of 3"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.99, 8.01, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -4})
    void budgetsOutsideOneToEightAreRefused(double bits) {
        SpecException e = assertThrows(SpecException.class, () -> new BitBudget(bits));
        assertTrue(e.getMessage().contains("[1, 8]"), e.getMessage());
    }

    @Test
    void candidatesPriceWhatTheEngineStores() throws Exception {
        SplittableRandom r = new SplittableRandom(1);
        float[] v = new float[96 * 64];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        PalettizationSpec[] rules = {PalettizationSpec.defaults(), PalettizationSpec.defaults().withPerChannelScale(true),
                PalettizationSpec.defaults().withLutQuant(new dev.palettizer.spec.LutQuantSpec(
                        dev.palettizer.spec.LutDType.INT8, dev.palettizer.spec.QScheme.SYMMETRIC))};
        int checked = 0;
        for (PalettizationSpec rule : rules) {
            for (PalettizationSpec spec : Candidates.of(rule, new long[] {96, 64})) {
                var t = palettizer.palettize(dev.palettizer.engine.TensorInput.of("w", v, 96, 64), spec);
                assertEquals(t.compressedBytes(), Candidates.storedBytes(spec, new long[] {96, 64}).orElseThrow(),
                        spec.toString());
                checked++;
            }
        }
        assertTrue(checked >= 30, "candidates checked: " + checked);
        // Per channel at 8 bits stores more than 8-bit per tensor here: left out.
        assertFalse(Candidates.of(PalettizationSpec.defaults(), new long[] {96, 64})
                .contains(PalettizationSpec.defaults().withBits(8).withGranularity(Granularity.perChannel(0))));
        // A rule that allows a ragged last group keeps it: groups of 32 on 50 rows (32 + 18), priced right.
        float[] v50 = java.util.Arrays.copyOf(v, 50 * 64);
        List<PalettizationSpec> ragged = Candidates.of(PalettizationSpec.defaults()
                .withGranularity(Granularity.groupedRagged(32)), new long[] {50, 64});
        assertTrue(ragged.stream().anyMatch(s -> s.granularity() instanceof Granularity.PerGroupedChannel g
                && g.groupSize() == 32 && g.raggedLast()), ragged.toString());
        for (PalettizationSpec spec : ragged) {
            var t = palettizer.palettize(dev.palettizer.engine.TensorInput.of("w", v50, 50, 64), spec);
            assertEquals(t.compressedBytes(), Candidates.storedBytes(spec, new long[] {50, 64}).orElseThrow(),
                    spec.toString());
        }
        // 32 does not divide 50 rows: no grouped candidate, per tensor and per channel remain.
        assertTrue(Candidates.of(PalettizationSpec.defaults(), new long[] {50, 64}).stream()
                .noneMatch(s -> s.granularity() instanceof Granularity.PerGroupedChannel g && g.groupSize() == 32));
    }

    /** Two MatMul weights (one with outliers) and an embedding, large enough that the ONNX expansion is a small overhead. */
    private Path onnxModel() throws Exception {
        float[] w2 = TinyOnnx.laplace(512 * 128, 0.05, 2);
        for (int i = 0; i < w2.length; i += 97) {
            w2[i] *= 10;
        }
        return TinyOnnx.of(13, 8).input("X", TinyOnnx.FLOAT, 2, 256).input("ids", TinyOnnx.INT64, 3)
                .initializer(TinyOnnx.floats("w1", TinyOnnx.laplace(256 * 512, 0.02, 1), 256, 512))
                .initializer(TinyOnnx.floats("w2", w2, 512, 128))
                .initializer(TinyOnnx.floats("emb.weight", TinyOnnx.laplace(300 * 64, 0.1, 3), 300, 64))
                .node("MatMul", "/l1/MatMul", List.of("X", "w1"), "h")
                .node("MatMul", "/l2/MatMul", List.of("h", "w2"), "Y")
                .node("Gather", "/emb/Gather", List.of("emb.weight", "ids"), "E")
                .output("Y", TinyOnnx.FLOAT).output("E", TinyOnnx.FLOAT)
                .write(dir.resolve("in.onnx"));
    }

    private static Map<String, ByteBuffer> runOrt(Path model) throws Exception {
        var env = ai.onnxruntime.OrtEnvironment.getEnvironment();
        SplittableRandom r = new SplittableRandom(5);
        float[] x = new float[2 * 256];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        try (var xs = ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(x), new long[] {2, 256});
             var ids = ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(new long[] {0, 17, 299}),
                     new long[] {3})) {
            return Ort.run(model, Map.of("X", xs, "ids", ids));
        }
    }

    @Test
    void onnxMixedBitsRunInOrtAndEqualTheDenseExport() throws Exception {
        Path in = onnxModel();
        FileJobOptions job = new FileJobOptions(SpecResolver.uniform(PalettizationSpec.defaults(), true, 4), 2048, false,
                null);
        Path compressed = dir.resolve("c.onnx");
        Path dense = dir.resolve("d.onnx");
        MixedBitsPalettizer.Result c = palettizer.palettizeWithin(in, compressed, job, new BitBudget(3.5),
                OnnxOutput.COMPRESSED, Progress.NONE, Progress.NONE);
        MixedBitsPalettizer.Result d = palettizer.palettizeWithin(in, dense, job, new BitBudget(3.5), OnnxOutput.DENSE,
                Progress.NONE, Progress.NONE);
        long kept = c.tensors().stream().filter(t -> !t.palettized()).mapToLong(TensorReport::bytesAfter).sum();
        long weights = c.budget().plan().weights();
        assertEquals(8.0 * (Files.size(compressed) - kept) / weights, c.budget().fileBits(), 1e-12);
        assertTrue(c.budget().fileBits() <= 3.5, "file bits " + c.budget().fileBits());
        assertTrue(Double.isNaN(d.budget().fileBits()), "a dense output has no stored bits");
        assertEquals(c.budget().rows(), d.budget().rows(), "the same choices for both outputs");
        assertTrue(c.budget().rows().stream().map(r -> r.bits() + r.granularity()).distinct().count() > 1,
                "mixed: " + c.budget().rows());
        Map<String, ByteBuffer> a = runOrt(compressed);
        Map<String, ByteBuffer> b = runOrt(dense);
        for (String o : List.of("Y", "E")) {
            float[] x = Ort.floats(a.get(o));
            float[] y = Ort.floats(b.get(o));
            assertEquals(y.length, x.length);
            for (int i = 0; i < x.length; i++) {
                assertEquals(y[i], x[i], 1e-5, o + "[" + i + "]");
            }
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().startsWith(".")).toList());
        }
    }
}
