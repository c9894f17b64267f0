package dev.palettizer.kmeans;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The SIMD kernel against the scalar one on the same arrays, bit for bit (tolerance: none): every window from
 * empty to several vectors wide, at every alignment, up to the last column, with rows holding +Inf, prefix sums
 * that overflow to +Inf (so that costs are NaN and clamp to +0), and exact ties.
 */
class SplitKernelTest {
    private static final SplitKernel SCALAR = ScalarSplitKernel.INSTANCE;
    private static final SplitKernel SIMD = OptimalKMeans1DEquivalenceTest.kernel("simd");
    private static final int N = 70;

    /** Prefix sums w, s1, s2 and a previous row, padded for the SIMD kernel, of one of four shapes. */
    private static double[][] arrays(SplittableRandom r, int shape) {
        int length = N + 1 + SIMD.padding();
        double[] w = new double[length];
        double[] s1 = new double[length];
        double[] s2 = new double[length];
        double[] prev = new double[length];
        for (int i = 1; i <= N; i++) {
            double weight = switch (shape) {
                case 0 -> r.nextDouble(0.01, 1);
                case 1 -> 1; // integer grid: exact sums and ties
                case 2 -> Math.pow(10, r.nextInt(250, 308)); // w overflows to +Inf: NaN costs
                default -> r.nextInt(3) + 1;
            };
            double x = shape == 1 ? i : r.nextDouble(-1, 1);
            w[i] = w[i - 1] + weight;
            s1[i] = s1[i - 1] + weight * x;
            s2[i] = s2[i - 1] + weight * x * x;
            prev[i] = r.nextInt(9) == 0 ? Double.POSITIVE_INFINITY : shape == 1 ? r.nextInt(4) : r.nextDouble(0, 5);
        }
        return new double[][] {w, s1, s2, prev};
    }

    @Test
    void bestSplitHasTheScalarKernelsBits() {
        SplittableRandom r = new SplittableRandom(5);
        for (int t = 0; t < 400; t++) {
            double[][] a = arrays(r, t % 4);
            for (int mid = 1; mid <= N; mid++) {
                int first = r.nextInt(mid);
                int last = Math.min(mid - 1, first - 1 + r.nextInt(40));
                double[] curScalar = new double[a[0].length];
                double[] curSimd = new double[a[0].length];
                int[] argScalar = new int[a[0].length];
                int[] argSimd = new int[a[0].length];
                int scalar = SCALAR.bestSplit(a[0], a[1], a[2], a[3], curScalar, argScalar, mid, first, last);
                int simd = SIMD.bestSplit(a[0], a[1], a[2], a[3], curSimd, argSimd, mid, first, last);
                String what = "shape " + t % 4 + ", column " + mid + ", window [" + first + ", " + last + "]";
                assertEquals(scalar, simd, what);
                assertEquals(Double.doubleToRawLongBits(curScalar[mid]), Double.doubleToRawLongBits(curSimd[mid]), what);
                assertArrayEquals(argScalar, argSimd, what);
            }
        }
    }

    @Test
    void fillWindowHasTheScalarKernelsBits() {
        SplittableRandom r = new SplittableRandom(6);
        for (int t = 0; t < 2000; t++) {
            double[][] a = arrays(r, t % 4);
            int lo = 1 + r.nextInt(N);
            int hi = Math.min(N, lo + r.nextInt(30));
            int first = r.nextInt(lo);
            int last = Math.min(hi - 1, first + r.nextInt(SIMD.windowWidth()));
            double[] curScalar = new double[a[0].length];
            double[] curSimd = new double[a[0].length];
            int[] bestScalar = new int[a[0].length];
            int[] bestSimd = new int[a[0].length];
            SCALAR.fillWindow(a[0], a[1], a[2], a[3], curScalar, bestScalar, lo, hi, first, last);
            SIMD.fillWindow(a[0], a[1], a[2], a[3], curSimd, bestSimd, lo, hi, first, last);
            String what = "shape " + t % 4 + ", columns [" + lo + ", " + hi + "], window [" + first + ", " + last + "]";
            assertArrayEquals(bits(curScalar), bits(curSimd), what + ": costs, and nothing written outside the columns");
            assertArrayEquals(bestScalar, bestSimd, what + ": splits, and nothing written outside the columns");
        }
    }

    private static long[] bits(double[] row) {
        return Arrays.stream(row).mapToLong(Double::doubleToRawLongBits).toArray();
    }
}
