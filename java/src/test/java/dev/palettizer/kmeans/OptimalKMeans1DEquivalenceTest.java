package dev.palettizer.kmeans;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The optimised DP gives the same bits as {@link ReferenceKMeans1D}, the algorithm as it was: centroids
 * (full split table and checkpointed) and optimal costs, on inputs chosen to stress floating point and
 * ties (equal weights on integer grids, symmetric grids, clusters, ranges of 1e-30, values one ulp
 * apart, weights up to 1e300) as well as per-channel rows like the benchmark's; with each {@link SplitKernel}.
 * The ties and rounding of these inputs also make the SIMD kernel's blocks fall back to the recursion (about
 * one block in 80), so the fallback is held to the same bits.
 */
class OptimalKMeans1DEquivalenceTest {
    private static final int KINDS = 8;

    /** Strictly ascending values of one of {@link #KINDS} shapes, with positive weights. */
    static double[][] input(SplittableRandom r, int kind, int n) {
        double[] v = new double[n];
        double[] w = new double[n];
        double base = r.nextDouble(-1, 1);
        double x = base;
        for (int i = 0; i < n; i++) {
            switch (kind) {
                case 0 -> { // integers, equal weights: exact prefix sums, many exact ties
                    v[i] = i;
                    w[i] = 1;
                }
                case 1 -> { // a range of about 1e-15, equal weights
                    v[i] = base + i * 1e-15 * (1 + Math.abs(base));
                    w[i] = 1;
                }
                case 2 -> { // clusters of 7 points, small integer weights
                    v[i] = i + (i / 7) * 100;
                    w[i] = 1 + r.nextInt(3);
                }
                case 3 -> { // weights from 1e-3 to 1e300: prefix sums that absorb or overflow
                    v[i] = i;
                    w[i] = Math.pow(10, r.nextInt(-3, 301));
                }
                case 4 -> { // symmetric grid, alternating weights
                    v[i] = (i - n / 2) * 0.25;
                    w[i] = (i % 2) + 1;
                }
                case 5 -> { // mostly one ulp apart (steps of 1e-30 round to it), with some jumps
                    x = Math.nextUp(x + (r.nextInt(4) == 0 ? r.nextDouble() : 1e-30));
                    v[i] = x;
                    w[i] = r.nextDouble(0.01, 1);
                }
                case 6 -> { // integer gaps of 1 to 3, equal weights
                    x += 1 + r.nextInt(3);
                    v[i] = x;
                    w[i] = 1;
                }
                default -> { // tiny values around 1e-30, random weights
                    v[i] = (i - n / 3) * 1e-30;
                    w[i] = r.nextDouble(0.01, 1);
                }
            }
        }
        for (int i = 1; i < n; i++) {
            if (!(v[i] > v[i - 1])) {
                v[i] = Math.nextUp(v[i - 1]);
            }
        }
        return new double[][] {v, w};
    }

    /** A row like the per-channel benchmark's: 4096 Laplace(0, 0.02) values keyed to fp16 and 4 decimals. */
    static double[][] benchmarkRow(SplittableRandom r) {
        float[] keys = new float[4096];
        double[] weights = new double[keys.length];
        for (int i = 0; i < keys.length; i++) {
            double magnitude = -0.02 * Math.log(1 - r.nextDouble());
            float value = Float.float16ToFloat(Float.floatToFloat16((float) (r.nextBoolean() ? magnitude : -magnitude)));
            keys[i] = (float) (Math.rint(value * 10000.0) / 10000.0) + 0f;
            weights[i] = (float) r.nextDouble();
        }
        Integer[] order = new Integer[keys.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, (a, b) -> Float.compare(keys[a], keys[b]));
        double[] v = new double[keys.length];
        double[] w = new double[keys.length];
        int n = 0;
        for (int i : order) {
            if (n > 0 && v[n - 1] == keys[i]) {
                w[n - 1] += weights[i];
            } else {
                v[n] = keys[i];
                w[n++] = weights[i];
            }
        }
        return new double[][] {Arrays.copyOf(v, n), Arrays.copyOf(w, n)};
    }

    /** The kernel a test names: the build runs tests with the Vector API module, so "simd" is always there. */
    static SplitKernel kernel(String name) {
        return switch (name) {
            case "scalar" -> ScalarSplitKernel.INSTANCE;
            case "simd" -> SplitKernels.vector().orElseThrow(() -> new AssertionError(
                    "no SIMD kernel: run the tests with --add-modules jdk.incubator.vector, as the build does"));
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static void assertSameBits(double[][] in, int k, SplitKernel kernel, String what) {
        ReferenceKMeans1D expected = new ReferenceKMeans1D(in[0], in[1]);
        OptimalKMeans1D actual = new OptimalKMeans1D(in[0], in[1], kernel);
        assertArrayEquals(expected.centroids(k), actual.centroids(k), 0, what + ", centroids");
        assertEquals(expected.optimalCost(k), actual.optimalCost(k), 0, what + ", optimal cost");
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "simd"})
    void sameBitsAsTheReferenceOnStressInputs(String kernel) {
        SplittableRandom r = new SplittableRandom(20261205);
        for (int t = 0; t < 4000; t++) {
            int kind = t % KINDS;
            int n = t % 16 == 0 ? 1 + r.nextInt(3000) : 1 + r.nextInt(200);
            int k = 1 + r.nextInt(Math.min(64, n + 2));
            assertSameBits(input(r, kind, n), k, kernel(kernel), "case " + t + " (kind " + kind + ", n " + n + ", k " + k + ")");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"scalar", "simd"})
    void sameBitsAsTheReferenceOnBenchmarkLikeRows(String kernel) {
        SplittableRandom r = new SplittableRandom(42);
        for (int t = 0; t < 24; t++) {
            double[][] row = benchmarkRow(r);
            for (int k : new int[] {4, 16}) {
                assertSameBits(row, k, kernel(kernel), "row " + t + ", k " + k);
            }
        }
    }

    /** LUTs up to 256 entries with the full split table, on the stress shapes from 1 to 3000 points. */
    @ParameterizedTest
    @ValueSource(strings = {"scalar", "simd"})
    void sameBitsAsTheReferenceForLargeLuts(String kernel) {
        SplittableRandom r = new SplittableRandom(256);
        for (int t = 0; t < 96; t++) {
            int kind = t % KINDS;
            int n = t % 8 == 7 ? 1 + r.nextInt(3000) : 1 + r.nextInt(400);
            int k = t % 12 == 0 ? 256 : 65 + r.nextInt(192);
            assertSameBits(input(r, kind, n), k, kernel(kernel), "case " + t + " (kind " + kind + ", n " + n + ", k " + k + ")");
        }
    }

    /** The checkpointed recovery (8-bit exact on many distinct values) takes the same path through the new loop. */
    @ParameterizedTest
    @ValueSource(strings = {"scalar", "simd"})
    void sameBitsAsTheReferenceWhenCheckpointed(String kernel) {
        SplittableRandom r = new SplittableRandom(11);
        for (int t = 0; t < 64; t++) {
            int kind = t % KINDS;
            double[][] in = input(r, kind, 300 + r.nextInt(700));
            int k = 2 + r.nextInt(255);
            double[] expected = new ReferenceKMeans1D(in[0], in[1]).centroids(k, 0);
            assertArrayEquals(expected, new OptimalKMeans1D(in[0], in[1], kernel(kernel)).centroids(k, 0), 0,
                    "case " + t + " (kind " + kind + ", k " + k + ")");
        }
    }
}
