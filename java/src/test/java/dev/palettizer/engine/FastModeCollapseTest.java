package dev.palettizer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.JavaBackend;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Issue 17 item 1: fast mode never quietly zeroes a small-magnitude tensor. */
class FastModeCollapseTest {
    private static final int ROWS = 256;
    private static final int COLS = 256;
    private static ForkJoinPool pool;
    private static JavaBackend backend;

    @BeforeAll
    static void open() {
        pool = new ForkJoinPool(2);
        backend = new JavaBackend(pool);
    }

    @AfterAll
    static void close() {
        backend.close();
        pool.close();
    }

    static float[] gaussian(double std, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[ROWS * COLS];
        for (int i = 0; i < v.length; i++) {
            // Box-Muller: deterministic normal values without java.util.Random's state.
            double u = 1 - r.nextDouble();
            v[i] = (float) (std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble()));
        }
        return v;
    }

    private static Outcome.Palettized run(float[] values, PalettizationSpec spec, boolean fast) {
        return (Outcome.Palettized) new TensorPalettizer(backend, EngineOptions.defaults(), pool)
                .palettize(TensorInput.of("w", values, ROWS, COLS), spec, new ClusterMode(fast, 4));
    }

    @ParameterizedTest(name = "std {0}, {1} bits, {2}")
    @CsvSource({"1e-4, 4, per-tensor", "1e-5, 4, per-tensor", "1e-5, 4, grouped", "3e-3, 8, per-tensor"})
    void collapsingFastModeFallsBackToExactKeysAndSaysSo(double std, int bits, String granularity) {
        float[] w = gaussian(std, 17);
        PalettizationSpec spec = spec(bits, granularity);
        Outcome.Palettized fast = run(w, spec, true);
        Outcome.Palettized exact = run(w, spec, false);
        assertNotNull(fast.note(), "a collapse must be reported");
        assertTrue(fast.note().contains("fell back to exact values"), fast.note());
        assertNull(exact.note());
        // The fallback is the exact-key run, bit for bit.
        assertEquals(exact.tensor().error().snrDb(), fast.tensor().error().snrDb(), 0.0);
        assertTrue(fast.tensor().error().snrDb() > (bits == 4 ? 19 : 35), "SNR " + fast.tensor().error().snrDb());
    }

    @ParameterizedTest(name = "std {0}")
    @CsvSource({"1e-1", "1e-2", "1e-3"})
    void fastModeKeepsTheSeedSemanticsWhereTheyAreHarmless(double std) {
        float[] w = gaussian(std, 17);
        Outcome.Palettized fast = run(w, spec(4, "per-tensor"), true);
        assertNull(fast.note(), "no fallback at std " + std);
        assertTrue(fast.tensor().error().snrDb() > 19, "SNR " + fast.tensor().error().snrDb());
    }

    private static PalettizationSpec spec(int bits, String granularity) {
        Granularity g = granularity.equals("grouped") ? Granularity.grouped(0, 32) : Granularity.perTensor();
        return new PalettizationSpec(bits, null, g, 1, false);
    }
}
