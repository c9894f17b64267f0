package dev.palettizer.kmeans;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class OptimalKMeans1DTest {

    /** O(k n^2) textbook DP, the independent oracle. */
    private static double bruteForce(double[] x, double[] w, int k) {
        int n = x.length;
        double[][] d = new double[k + 1][n + 1];
        for (double[] row : d) {
            Arrays.fill(row, Double.POSITIVE_INFINITY);
        }
        d[0][0] = 0;
        for (int c = 1; c <= k; c++) {
            for (int j = 1; j <= n; j++) {
                for (int i = c - 1; i < j; i++) {
                    d[c][j] = Math.min(d[c][j], d[c - 1][i] + cost(x, w, i, j));
                }
            }
        }
        return d[Math.min(k, n)][n];
    }

    private static double cost(double[] x, double[] w, int from, int to) {
        double sw = 0;
        double swx = 0;
        for (int i = from; i < to; i++) {
            sw += w[i];
            swx += w[i] * x[i];
        }
        double mean = swx / sw;
        double c = 0;
        for (int i = from; i < to; i++) {
            c += w[i] * (x[i] - mean) * (x[i] - mean);
        }
        return c;
    }

    private static double sse(double[] x, double[] w, double[] centroids) {
        double total = 0;
        for (int i = 0; i < x.length; i++) {
            double best = Double.POSITIVE_INFINITY;
            for (double c : centroids) {
                best = Math.min(best, (x[i] - c) * (x[i] - c));
            }
            total += w[i] * best;
        }
        return total;
    }

    @Test
    void matchesBruteForceOnRandomWeightedInputs() {
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + r.nextInt(60);
            int k = 1 + r.nextInt(9);
            double[] x = r.doubles(n, -1, 1).sorted().distinct().toArray();
            double[] w = r.doubles(x.length, 0.01, 5).toArray();
            OptimalKMeans1D dp = new OptimalKMeans1D(x, w);
            double expected = bruteForce(x, w, k);
            assertEquals(expected, dp.optimalCost(k), 1e-9 * (1 + expected), "trial " + trial);
            double[] c = dp.centroids(k);
            assertEquals(Math.min(k, x.length), c.length);
            // The centroids realise the optimum (assigning to the nearest can only match or beat the DP's partition).
            assertEquals(expected, sse(x, w, c), 1e-9 * (1 + expected), "trial " + trial);
            for (int i = 1; i < c.length; i++) {
                assertTrueAscending(c[i - 1], c[i]);
            }
        }
    }

    private static void assertTrueAscending(double a, double b) {
        if (!(a < b)) {
            throw new AssertionError("centroids not ascending: " + a + " then " + b);
        }
    }

    @Test
    void fewerPointsThanClustersGivesThePointsThemselves() {
        double[] x = {-2, 0.5, 3};
        double[] w = {1, 2, 3};
        assertArrayEquals(x, new OptimalKMeans1D(x, w).centroids(16), 0);
        assertEquals(0, new OptimalKMeans1D(x, w).optimalCost(16));
    }

    @Test
    void parallelLayersOnLargeInputsMatchTheSequentialResult() {
        SplittableRandom r = new SplittableRandom(3);
        double[] x = r.doubles(200_000, -1, 1).sorted().distinct().toArray();
        double[] w = r.doubles(x.length, 0.1, 1).toArray();
        OptimalKMeans1D dp = new OptimalKMeans1D(x, w);
        double cost = dp.optimalCost(8);
        double[] c = dp.centroids(8);
        assertEquals(cost, sse(x, w, c), 1e-9 * cost);
    }

    /**
     * Past the split-table budget the layers are recomputed block by block from checkpoints: the
     * centroids are the full table's bit for bit, for block sizes that divide the layers and that do not.
     */
    @Test
    void checkpointedRecoveryGivesTheFullTablesCentroids() {
        SplittableRandom r = new SplittableRandom(9);
        double[] x = r.doubles(3_000, -1, 1).sorted().distinct().toArray();
        double[] w = r.doubles(x.length, 0.1, 1).toArray();
        OptimalKMeans1D dp = new OptimalKMeans1D(x, w);
        for (int k : new int[] {1, 2, 3, 9, 16, 64, 256}) {
            double[] full = dp.centroids(k, Long.MAX_VALUE);
            assertEquals(k, full.length);
            for (long budget : new long[] {0, 4L * (x.length + 1) * 3}) {
                assertArrayEquals(full, dp.centroids(k, budget), 0, "k " + k + ", budget " + budget);
            }
        }
        double[] big = r.doubles(200_000, -1, 1).sorted().distinct().toArray();
        OptimalKMeans1D parallel = new OptimalKMeans1D(big, r.doubles(big.length, 0.1, 1).toArray());
        assertArrayEquals(parallel.centroids(32, Long.MAX_VALUE), parallel.centroids(32, 0), 0, "parallel layers");
    }

    @Test
    void rejectsUnsortedValuesAndNonPositiveWeights() {
        assertThrows(IllegalArgumentException.class, () -> new OptimalKMeans1D(new double[] {1, 0}, new double[] {1, 1}));
        assertThrows(IllegalArgumentException.class, () -> new OptimalKMeans1D(new double[] {0, 1}, new double[] {1, 0}));
    }
}
