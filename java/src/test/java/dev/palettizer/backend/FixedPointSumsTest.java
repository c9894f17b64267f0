package dev.palettizer.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.DkmPasses.ValueKeys;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The order-free per-key sums: exact integer accumulation, the stated error bound, the edges, and the Java pass built on them. */
class FixedPointSumsTest {

    /** The sum of gs by FixedPointSums, terms added in the given order. */
    private static double sum(float[] gs, int[] order) {
        int max = 0;
        for (float g : gs) {
            max = Math.max(max, FixedPointSums.magnitudeBits(g));
        }
        long acc = 0;
        if (FixedPointSums.scaled(max)) {
            int shift = FixedPointSums.shift(gs.length, max);
            for (int i : order) {
                acc += FixedPointSums.term(gs[i], shift);
            }
        }
        return FixedPointSums.value(acc, gs.length, max);
    }

    private static int[] identity(int n) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        return order;
    }

    private static int[] shuffled(int n, long seed) {
        int[] order = identity(n);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    @Test
    void wideRangeSumsAreWithinTheStatedBoundOfTheExactSumInAnyOrder() {
        SplittableRandom r = new SplittableRandom(1);
        int n = 200_000;
        float[] gs = new float[n];
        BigDecimal exact = BigDecimal.ZERO;
        int max = 0;
        for (int i = 0; i < n; i++) {
            gs[i] = (float) Math.scalb(r.nextGaussian(), r.nextInt(-30, 10));
            exact = exact.add(new BigDecimal(gs[i]));
            max = Math.max(max, FixedPointSums.magnitudeBits(gs[i]));
        }
        double inOrder = sum(gs, identity(n));
        assertEquals(Double.doubleToRawLongBits(inOrder), Double.doubleToRawLongBits(sum(gs, shuffled(n, 2))), "order changed the bits");
        // Each term rounds by at most 2^-(shift+1), and the total once more to double.
        double bound = n * Math.scalb(1.0, -(FixedPointSums.shift(n, max) + 1)) + Math.ulp(inOrder);
        double err = new BigDecimal(inOrder).subtract(exact).abs().doubleValue();
        assertTrue(err <= bound, "error " + err + " over the bound " + bound);
        assertTrue(err <= 1e-12 * exact.abs().doubleValue(), "relative error " + err / exact.abs().doubleValue());
    }

    @Test
    void extremesNeitherOverflowNorLoseTheirBits() {
        int n = 1 << 20;
        float[] big = new float[n];
        java.util.Arrays.fill(big, -Float.MAX_VALUE);
        assertEquals(n * (double) -Float.MAX_VALUE, sum(big, identity(n)));
        float[] tiny = new float[n];
        java.util.Arrays.fill(tiny, Float.MIN_VALUE);
        assertEquals(n * (double) Float.MIN_VALUE, sum(tiny, identity(n)));
        float[] cancel = {Float.MAX_VALUE, 1f, -Float.MAX_VALUE};
        assertEquals(0.0, sum(cancel, identity(3)), "terms far below the largest are rounded away, as the bound says");
    }

    @Test
    void zerosGiveZeroAndANonFiniteTermGivesNaN() {
        assertEquals(0L, Double.doubleToRawLongBits(sum(new float[] {0f, -0f, 0f}, identity(3))));
        assertTrue(Double.isNaN(sum(new float[] {1f, Float.POSITIVE_INFINITY}, identity(2))));
        assertTrue(Double.isNaN(sum(new float[] {Float.NaN, 2f}, identity(2))));
    }

    @Test
    void theJavaPassEqualsANaivePerKeySumForAnyThreadCount() {
        DkmLayout l = new DkmLayout(50_000, 100, 100, 1, 40);
        SplittableRandom r = new SplittableRandom(3);
        float[] w = new float[(int) l.elements()];
        float[] g = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = Float.float16ToFloat(Float.floatToFloat16((float) (0.05 * r.nextGaussian())));
            g[i] = (float) Math.scalb(r.nextGaussian(), r.nextInt(-12, 4));
        }
        int slots = 65536 * l.partitions();
        long[] count = new long[slots];
        int[] max = new int[slots];
        for (int i = 0; i < w.length; i++) {
            int slot = (int) l.partitionOfUnit(i / l.inner() / l.dim()) * 65536 + ValueKeys.F16.key(w[i]);
            count[slot]++;
            max[slot] = Math.max(max[slot], FixedPointSums.magnitudeBits(g[i]));
        }
        long[] acc = new long[slots];
        for (int i = 0; i < w.length; i++) {
            int slot = (int) l.partitionOfUnit(i / l.inner() / l.dim()) * 65536 + ValueKeys.F16.key(w[i]);
            if (FixedPointSums.scaled(max[slot])) {
                acc[slot] += FixedPointSums.term(g[i], FixedPointSums.shift(count[slot], max[slot]));
            }
        }
        double[] naive = new double[slots];
        for (int s = 0; s < slots; s++) {
            naive[s] = FixedPointSums.value(acc[s], count[s], max[s]);
        }
        for (int threads : new int[] {1, 3}) {
            double[] sums = new double[slots];
            try (JavaDkmPasses passes = new JavaDkmPasses(threads)) {
                passes.sumByValue(DkmData.of(w), DkmData.of(g), l, ValueKeys.F16, sums);
            }
            assertArrayEquals(naive, sums, threads + " threads");
        }
    }

    @Test
    void relativeErrorStaysAtDoublePrecisionForAKeyOfAMillionTerms() {
        SplittableRandom r = new SplittableRandom(4);
        int n = 1 << 20;
        float[] gs = new float[n];
        BigDecimal exact = BigDecimal.ZERO;
        for (int i = 0; i < n; i++) {
            gs[i] = (float) (1 + r.nextDouble());
            exact = exact.add(new BigDecimal(gs[i]), MathContext.UNLIMITED);
        }
        double err = new BigDecimal(sum(gs, identity(n))).subtract(exact).abs().doubleValue();
        assertTrue(err <= 1e-13 * exact.doubleValue(), "relative error " + err / exact.doubleValue());
    }
}
