package dev.palettizer.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.OnnxOutput;
import dev.palettizer.engine.Progress;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import dev.palettizer.spec.SpecResolver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The measured error measure: importance x weighted SSE, and the sensitivities files it refuses. */
class MeasuredBudgetTest {
    private static final String[] NAMES = {"a.weight", "b.weight", "c.weight"};
    private static final long[] SHAPE = {64, 128};
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

    private Path model() throws Exception {
        Path p = dir.resolve("m.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        SplittableRandom r = new SplittableRandom(3);
        for (int t = 0; t < NAMES.length; t++) {
            float[] v = new float[(int) (SHAPE[0] * SHAPE[1])];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (r.nextGaussian() * 0.02 * (t + 1));
            }
            w.add(new SafetensorsWriter.Tensor(NAMES[t], DType.F32, SHAPE, SafetensorsWriter.Payload.ofFloats(v)));
        }
        w.write(p);
        return p;
    }

    /**
     * Per-column sensitivities times {@code scale[t]}, with {@code metadata} (importances and anything else) in
     * the header.
     */
    private Path sensitivities(String file, double[] scale, Map<String, String> metadata) throws Exception {
        Path p = dir.resolve(file);
        SafetensorsWriter w = new SafetensorsWriter();
        SplittableRandom r = new SplittableRandom(5);
        for (int t = 0; t < NAMES.length; t++) {
            float[] col = new float[(int) SHAPE[1]];
            for (int j = 0; j < col.length; j++) {
                col[j] = (float) Math.exp(r.nextGaussian());
            }
            float[] s = new float[(int) (SHAPE[0] * SHAPE[1])];
            for (int i = 0; i < s.length; i++) {
                s[i] = (float) (scale[t] * col[i % col.length]);
            }
            w.add(new SafetensorsWriter.Tensor(NAMES[t], DType.F32, SHAPE, SafetensorsWriter.Payload.ofFloats(s)));
        }
        metadata.forEach(w::putMetadata);
        w.write(p);
        return p;
    }

    private static Map<String, String> importances(double a, double b, double c) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(Importances.key(NAMES[0]), Double.toString(a));
        m.put(Importances.key(NAMES[1]), Double.toString(b));
        m.put(Importances.key(NAMES[2]), Double.toString(c));
        return m;
    }

    private MixedBitsPalettizer.Result run(Path out, double bits, ErrorMeasure measure, Path sens) throws Exception {
        FileJobOptions job = new FileJobOptions(SpecResolver.uniform(PalettizationSpec.defaults(), true, 4), 2048,
                false, sens);
        return palettizer.palettizeWithin(model(), out, job, new BitBudget(bits, measure), OnnxOutput.COMPRESSED,
                Progress.NONE, Progress.NONE);
    }

    private static List<String> choices(BudgetReport b) {
        return b.rows().stream().map(r -> r.bits() + " " + r.granularity()).toList();
    }

    /**
     * The hand computation: measured with importances lambda_t on sensitivities s equals the output measure on
     * sensitivities lambda_t s (powers of two, so the scaled file normalises to the same bits): the same
     * curves, allocation and predicted error per tensor, and a run in fast mode achieves what it predicted.
     */
    @ParameterizedTest(name = "{0} bits")
    @ValueSource(doubles = {2.5, 3.5, 4.5})
    void measuredIsTheOutputErrorOnSensitivitiesScaledByTheImportances(double bits) throws Exception {
        double[] lambda = {64, 0.25, 2};
        BudgetReport measured = run(dir.resolve("m.out.safetensors"), bits, ErrorMeasure.MEASURED,
                sensitivities("s.safetensors", new double[] {1, 1, 1}, importances(lambda[0], lambda[1], lambda[2])))
                .budget();
        BudgetReport scaled = run(dir.resolve("o.out.safetensors"), bits, ErrorMeasure.OUTPUT,
                sensitivities("scaled.safetensors", lambda, Map.of())).budget();
        assertEquals(choices(scaled), choices(measured));
        for (int i = 0; i < NAMES.length; i++) {
            BudgetReport.Row m = measured.rows().get(i);
            assertEquals(scaled.rows().get(i).predictedError(), m.predictedError(), 1e-12 * m.predictedError(), m.name());
            assertEquals(m.predictedError(), m.achievedError(), 0, m.name());
        }
        assertEquals(scaled.plan().allocation().bytes(), measured.plan().allocation().bytes());
    }

    /** A tensor whose importance is larger gets more bits; swapping the importances swaps the choice. */
    @Test
    void theMoreImportantTensorGetsMoreBits() throws Exception {
        BudgetReport first = run(dir.resolve("x.safetensors"), 3, ErrorMeasure.MEASURED,
                sensitivities("x.s.safetensors", new double[] {1, 1, 1}, importances(100, 1, 1))).budget();
        BudgetReport second = run(dir.resolve("y.safetensors"), 3, ErrorMeasure.MEASURED,
                sensitivities("y.s.safetensors", new double[] {1, 1, 1}, importances(1, 100, 1))).budget();
        assertTrue(first.rows().get(0).bitsPerWeight() > first.rows().get(1).bitsPerWeight(), choices(first).toString());
        assertTrue(second.rows().get(1).bitsPerWeight() > second.rows().get(0).bitsPerWeight(), choices(second).toString());
        assertNotEquals(choices(first), choices(second));
    }

    @Test
    void aFileWithoutImportancesIsRefusedNamingTheFileAndTheFix() throws Exception {
        Path sens = sensitivities("plain.safetensors", new double[] {1, 1, 1}, Map.of());
        Path out = dir.resolve("none.safetensors");
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> run(out, 4, ErrorMeasure.MEASURED, sens));
        assertTrue(e.getMessage().contains("plain.safetensors") && e.getMessage().contains("calibrate --importance"),
                e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void aTensorWithoutAnImportanceIsNamed() throws Exception {
        Map<String, String> two = importances(1, 2, 3);
        two.remove(Importances.key("b.weight"));
        Path sens = sensitivities("two.safetensors", new double[] {1, 1, 1}, two);
        Path out = dir.resolve("none.safetensors");
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> run(out, 4, ErrorMeasure.MEASURED, sens));
        assertTrue(e.getMessage().contains("two.safetensors") && e.getMessage().contains("b.weight")
                && e.getMessage().contains("calibrate --importance"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void anImportanceForAnUnknownTensorIsRefused() throws Exception {
        Map<String, String> extra = importances(1, 2, 3);
        extra.put(Importances.key("d.weight"), "1.5");
        Path sens = sensitivities("extra.safetensors", new double[] {1, 1, 1}, extra);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> Importances.read(sens));
        assertTrue(e.getMessage().contains("extra.safetensors") && e.getMessage().contains("d.weight")
                && e.getMessage().contains("no sensitivities for"), e.getMessage());
    }

    @ParameterizedTest(name = "importance {0}")
    @ValueSource(strings = {"NaN", "0", "-1.5", "Infinity", "abc"})
    void anImportanceThatIsNoFinitePositiveNumberIsRefused(String value) throws Exception {
        Map<String, String> bad = importances(1, 2, 3);
        bad.put(Importances.key("c.weight"), value);
        Path sens = sensitivities("bad.safetensors", new double[] {1, 1, 1}, bad);
        Path out = dir.resolve("none.safetensors");
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> run(out, 4, ErrorMeasure.MEASURED, sens));
        assertTrue(e.getMessage().contains("bad.safetensors") && e.getMessage().contains("c.weight")
                && e.getMessage().contains(Importances.key("c.weight")), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void theMeasuredErrorWithoutASensitivitiesFileIsRefused() throws Exception {
        Path out = dir.resolve("none.safetensors");
        SpecException e = assertThrows(SpecException.class, () -> run(out, 4, ErrorMeasure.MEASURED, null));
        assertTrue(e.getMessage().contains("calibrate --importance"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void theMeasureParsesByName() {
        assertEquals(ErrorMeasure.MEASURED, ErrorMeasure.parse(" Measured "));
        SpecException e = assertThrows(SpecException.class, () -> ErrorMeasure.parse("snr"));
        assertTrue(e.getMessage().contains("output, relative or measured"), e.getMessage());
    }
}
