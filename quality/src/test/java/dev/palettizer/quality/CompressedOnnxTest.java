package dev.palettizer.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.Palettizer;
import dev.palettizer.calibrate.CalibrateMain;
import dev.palettizer.budget.BitBudget;
import dev.palettizer.budget.ErrorMeasure;
import dev.palettizer.budget.MixedBitsPalettizer;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.OnnxOutput;
import dev.palettizer.engine.Progress;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecResolver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 3, must-show 2 on the real model: the compressed ONNX MiniLM runs in ONNX Runtime and its
 * embeddings equal those of the dense ONNX MiniLM (same palettization, weights stored rebuilt) to
 * 1e-5 in every component, on the 200 built-in sentences. Three settings keep CI short (the third
 * groups the 30522-row word embedding with a ragged last group). And
 * must-show 1's targets: 8-bit and 6-bit per-tensor beat LangChain4j's int8 model (mean cosine vs
 * fp32 at least 0.998 and 0.995, in a smaller file).
 */
class CompressedOnnxTest {
    private static final double TOLERANCE = 1e-5;
    private static final List<String> SENTENCES = Sentences.all();

    @TempDir
    static Path dir;

    private static MiniLm fp32;
    private static Palettizer palettizer;
    private static float[][] reference;

    @BeforeAll
    static void setUp() throws Exception {
        fp32 = MiniLm.fp32(dir);
        palettizer = Palettizer.builder().build();
        reference = Embedder.embed(fp32.model(), fp32.tokenizer(), SENTENCES);
    }

    @AfterAll
    static void tearDown() {
        palettizer.close();
    }

    static List<GridPoint> settings() {
        return List.of(new GridPoint(4, GridPoint.Layout.PER_TENSOR, true), new GridPoint(4, GridPoint.Layout.GROUPED_32, true),
                new GridPoint(4, GridPoint.Layout.GROUPED_32_RAGGED, true),
                new GridPoint(3, GridPoint.Layout.PER_TENSOR, true, 0.005));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("settings")
    void compressedEmbeddingsEqualDenseOnes(GridPoint point) throws Exception {
        assertCompressedEqualsDense(point, null);
    }

    /** Issue 13, must-show 2 for the calibrated recipe: weighted by sensitivities from 'calibrate --builtin-texts'. */
    @Test
    void calibratedCompressedEmbeddingsEqualDenseOnes() throws Exception {
        Path sensitivities = dir.resolve("sensitivities.safetensors");
        int code = CalibrateMain.execute(System.err, fp32.model().toString(), "--out", sensitivities.toString(),
                "--builtin-texts", "--tokenizer", fp32.tokenizer().toString(), "--max-samples", "32");
        assertEquals(0, code);
        assertCompressedEqualsDense(new GridPoint(4, GridPoint.Layout.PER_TENSOR, true), sensitivities);
        // Dense-and-sparse: the outliers are chosen by sensitivity times square here.
        assertCompressedEqualsDense(new GridPoint(3, GridPoint.Layout.PER_TENSOR, true, 0.005), sensitivities);
    }

    private void assertCompressedEqualsDense(GridPoint point, Path sensitivities) throws Exception {
        String prefix = sensitivities == null ? "" : "s";
        Path compressed = dir.resolve(prefix + "c-" + point.fileName());
        Path dense = dir.resolve(prefix + "d-" + point.fileName());
        QualityMain.palettize(palettizer, fp32, point, sensitivities, compressed, OnnxOutput.COMPRESSED);
        QualityMain.palettize(palettizer, fp32, point, sensitivities, dense, OnnxOutput.DENSE);
        assertEmbeddingsEqual(compressed, dense, point.label() + (sensitivities == null ? "" : " calibrated"));
    }

    /**
     * Issue 13, must-show 2 for the recipe that reaches the goal (examples/recipes/calibrated-mixed-4.5bit.yaml):
     * mixed bits at 4.5 bits weighted by measured importances, over rules of ragged groups of 32 with 0.1 %
     * outliers, so one file mixes every expansion the budget can choose. Fewer calibration samples than the
     * recipe's run keep CI short; the expansions do not depend on them.
     */
    @Test
    void mixedBitsRecipeCompressedEqualsDense() throws Exception {
        Path stats = dir.resolve("importance.safetensors");
        int code = CalibrateMain.execute(System.err, fp32.model().toString(), "--out", stats.toString(),
                "--builtin-texts", "--tokenizer", fp32.tokenizer().toString(), "--max-samples", "16",
                "--importance", "--importance-samples", "4");
        assertEquals(0, code);
        PalettizationSpec rule = PalettizationSpec.defaults().withGranularity(Granularity.groupedRagged(32))
                .withOutlierFraction(0.001);
        FileJobOptions job = new FileJobOptions(SpecResolver.uniform(rule, true, 4),
                FileJobOptions.DEFAULT_WEIGHT_THRESHOLD, false, stats);
        BitBudget budget = new BitBudget(4.5, ErrorMeasure.MEASURED);
        Path compressed = dir.resolve("mixed-c.onnx");
        Path dense = dir.resolve("mixed-d.onnx");
        MixedBitsPalettizer.Result c = palettizer.palettizeWithin(fp32.model(), compressed, job, budget,
                OnnxOutput.COMPRESSED, Progress.NONE, Progress.NONE);
        MixedBitsPalettizer.Result d = palettizer.palettizeWithin(fp32.model(), dense, job, budget,
                OnnxOutput.DENSE, Progress.NONE, Progress.NONE);
        assertEquals(c.budget().plan().byName(), d.budget().plan().byName(), "both outputs get the same choice");
        assertTrue(c.budget().plan().byName().values().stream().map(t -> t.chosen().spec().nBits()).distinct().count() > 1,
                "the budget mixes bit widths: " + c.budget().plan().byName());
        assertEmbeddingsEqual(compressed, dense, "mixed bits at 4.5, measured, ragged, 0.1 % outliers");
    }

    private void assertEmbeddingsEqual(Path compressed, Path dense, String label) throws Exception {
        assertTrue(Files.size(compressed) < Files.size(dense), "compressed file is smaller");
        float[][] fromCompressed = Embedder.embed(compressed, fp32.tokenizer(), SENTENCES);
        float[][] fromDense = Embedder.embed(dense, fp32.tokenizer(), SENTENCES);
        assertEquals(200, fromDense.length);
        Agreement a = Agreement.of(fromDense, fromCompressed);
        System.out.printf("%s: max |compressed - dense| = %.3g over %d x %d components%n", label,
                a.maxAbsDifference(), fromDense.length, fromDense[0].length);
        assertTrue(a.maxAbsDifference() <= TOLERANCE, "max |compressed - dense| = " + a.maxAbsDifference());
        double cos = Agreement.cosine(reference[0], fromCompressed[0]);
        assertTrue(cos > 0.8 && cos < 1, "4-bit embeddings are close to, not equal to, fp32's: " + cos);
    }

    @ParameterizedTest(name = "{0}-bit per tensor reaches mean cosine {1} in a file smaller than the int8 model's")
    @CsvSource({"8, 0.998", "6, 0.995"})
    void perTensorBeatsTheInt8Model(int bits, double target) throws Exception {
        GridPoint point = new GridPoint(bits, GridPoint.Layout.PER_TENSOR, true);
        Path compressed = dir.resolve("t-" + point.fileName());
        QualityMain.palettize(palettizer, fp32, point, compressed, OnnxOutput.COMPRESSED);
        Agreement a = Agreement.of(reference, Embedder.embed(compressed, fp32.tokenizer(), SENTENCES));
        long int8Bytes = Files.size(MiniLm.int8(dir).model());
        System.out.printf("%s: mean cosine %.5f, %d bytes (int8 model: %d)%n", point.label(), a.meanCosine(),
                Files.size(compressed), int8Bytes);
        assertTrue(a.meanCosine() >= target, "mean cosine " + a.meanCosine() + " < " + target);
        assertTrue(Files.size(compressed) < int8Bytes, Files.size(compressed) + " bytes >= int8 model's " + int8Bytes);
    }
}
