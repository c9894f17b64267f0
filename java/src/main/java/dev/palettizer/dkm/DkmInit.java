package dev.palettizer.dkm;

import dev.palettizer.kmeans.KMeansPlusPlus;
import dev.palettizer.kmeans.OptimalKMeans1D;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * First centroids of one partition (coremltools' {@code init_partitions}). Every kmeans_init kind
 * (cpu.kmeans++, kmeans_pp, efficient_kmeans) maps to the same rule, as coremltools' "auto" does: scalar
 * points of a partition with at most {@code kmeans_opt1d_threshold} (or at most k) points get the optimal
 * 1-D k-means ({@link OptimalKMeans1D}); all others get k-means++ seeding followed by weighted Lloyd
 * iterations (at most {@link #LLOYD_ITERATIONS}, coremltools' max_iter for the init). The points are the
 * partition's distinct values with their counts when the weight is uniquified (exact), else a
 * deterministic strided sample of at most {@link DkmWeight#INIT_SAMPLE} points (coremltools uses all of them:
 * the sample bounds init memory for billion-element weights). With enforce_zero, the centroid nearest
 * the origin moves to index 0 and becomes exactly 0 (the one it displaces takes its slot).
 */
final class DkmInit {
    static final int LLOYD_ITERATIONS = 100;

    private DkmInit() {}

    /**
     * @param points      n points of dim floats, point-major
     * @param weights     n positive weights
     * @param totalPoints points the partition really has (decides the opt1d rule)
     * @return k*dim centroids
     */
    static double[] centroids(float[] points, double[] weights, int n, int dim, int k, long totalPoints,
                              int opt1dThreshold, boolean enforceZero, long seed) {
        double[] c;
        if (dim == 1) {
            // Distinct values in ascending order with summed weights: the same input whichever route collected it.
            int m = canonicalise(points, weights, n);
            points = Arrays.copyOf(points, m);
            weights = Arrays.copyOf(weights, m);
            n = m;
        }
        if (dim == 1 && (totalPoints <= opt1dThreshold || totalPoints <= k)) {
            c = optimal1D(points, weights, n, k);
        } else {
            float[] pts = Arrays.copyOf(points, n * dim);
            float[] pw = new float[n * dim];
            for (int i = 0; i < n; i++) {
                Arrays.fill(pw, i * dim, (i + 1) * dim, (float) weights[i]);
            }
            float[] seeds = KMeansPlusPlus.seed(pts, pw, dim, k, new SplittableRandom(seed));
            c = new double[k * dim];
            for (int i = 0; i < c.length; i++) {
                c[i] = seeds[i];
            }
            lloyd(points, weights, n, dim, k, c);
        }
        if (enforceZero) {
            int nearest = 0;
            double best = Double.POSITIVE_INFINITY;
            for (int j = 0; j < k; j++) {
                double norm = 0;
                for (int t = 0; t < dim; t++) {
                    norm += c[j * dim + t] * c[j * dim + t];
                }
                if (norm < best) {
                    best = norm;
                    nearest = j;
                }
            }
            System.arraycopy(c, 0, c, nearest * dim, dim);
            Arrays.fill(c, 0, dim, 0);
        }
        return c;
    }

    /** Sorts scalar points ascending and merges equal ones (0 and -0 included), in place; returns how many remain. */
    private static int canonicalise(float[] points, double[] weights, int n) {
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(points[a] + 0.0, points[b] + 0.0));
        float[] v = new float[n];
        double[] w = new double[n];
        int m = 0;
        for (int i = 0; i < n; i++) {
            float x = points[order[i]] + 0.0f;
            if (m > 0 && v[m - 1] == x) {
                w[m - 1] += weights[order[i]];
            } else {
                v[m] = x;
                w[m++] = weights[order[i]];
            }
        }
        System.arraycopy(v, 0, points, 0, m);
        System.arraycopy(w, 0, weights, 0, m);
        return m;
    }

    private static double[] optimal1D(float[] points, double[] weights, int n, int k) {
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = points[i];
        }
        double[] found = new OptimalKMeans1D(values, Arrays.copyOf(weights, n)).centroids(k);
        double[] c = Arrays.copyOf(found, k);
        // Fewer distinct values than centroids: repeat the last; palett_cluster_tol splits duplicates later.
        Arrays.fill(c, found.length, k, found[found.length - 1]);
        return c;
    }

    /** Weighted Lloyd iterations until no assignment changes; an empty cluster keeps its centroid. */
    private static void lloyd(float[] points, double[] weights, int n, int dim, int k, double[] c) {
        int[] label = new int[n];
        Arrays.fill(label, -1);
        double[] sum = new double[k * dim];
        double[] mass = new double[k];
        for (int it = 0; it < LLOYD_ITERATIONS; it++) {
            boolean changed = false;
            Arrays.fill(sum, 0);
            Arrays.fill(mass, 0);
            for (int i = 0; i < n; i++) {
                int best = 0;
                double bestD = Double.POSITIVE_INFINITY;
                for (int j = 0; j < k; j++) {
                    double d = 0;
                    for (int t = 0; t < dim; t++) {
                        double diff = points[i * dim + t] - c[j * dim + t];
                        d += diff * diff;
                    }
                    if (d < bestD) {
                        bestD = d;
                        best = j;
                    }
                }
                changed |= label[i] != best;
                label[i] = best;
                mass[best] += weights[i];
                for (int t = 0; t < dim; t++) {
                    sum[best * dim + t] += weights[i] * points[i * dim + t];
                }
            }
            for (int j = 0; j < k; j++) {
                if (mass[j] > 0) {
                    for (int t = 0; t < dim; t++) {
                        c[j * dim + t] = sum[j * dim + t] / mass[j];
                    }
                }
            }
            if (!changed) {
                return;
            }
        }
    }
}
