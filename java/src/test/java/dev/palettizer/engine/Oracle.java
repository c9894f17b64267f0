package dev.palettizer.engine;

import dev.palettizer.kmeans.OptimalKMeans1D;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/** Test data and independent reference computations over plain row-major 2-D matrices. */
final class Oracle {
    private Oracle() {}

    static float[] laplace(int n, double b, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) SyntheticModel.laplace(r, b);
        }
        return out;
    }

    static float[] uniform(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) r.nextDouble(1e-3, 1);
        }
        return out;
    }

    /** Element indices of each group: axis -1 = whole matrix, 0 = row blocks, 1 = column blocks. */
    static List<int[]> groups(int rows, int cols, int axis, int groupSize) {
        List<int[]> out = new ArrayList<>();
        if (axis < 0) {
            int[] all = new int[rows * cols];
            Arrays.setAll(all, i -> i);
            out.add(all);
            return out;
        }
        int channels = axis == 0 ? rows : cols;
        for (int g = 0; g < channels / groupSize; g++) {
            int[] idx = new int[groupSize * (axis == 0 ? cols : rows)];
            int n = 0;
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    int ch = axis == 0 ? r : c;
                    if (ch / groupSize == g) {
                        idx[n++] = r * cols + c;
                    }
                }
            }
            out.add(idx);
        }
        return out;
    }

    /** Sum over groups of the optimal (weighted) 1-D k-means cost of the exact values. */
    static double optimalSse(float[] w, float[] s, List<int[]> groups, int k) {
        try (ForkJoinPool pool = new ForkJoinPool(Runtime.getRuntime().availableProcessors())) {
            List<ForkJoinTask<Double>> tasks = groups.stream()
                    .map(g -> ForkJoinTask.adapt(() -> groupOptimum(w, s, g, k))).toList();
            return pool.invoke(ForkJoinTask.adapt(() -> {
                ForkJoinTask.invokeAll(tasks);
                return tasks.stream().mapToDouble(ForkJoinTask::join).sum();
            }));
        }
    }

    private static double groupOptimum(float[] w, float[] s, int[] group, int k) {
        double[] v = new double[group.length];
        for (int i = 0; i < group.length; i++) {
            v[i] = w[group[i]];
        }
        int[] perm = sortIndex(v);
        double[] values = new double[group.length];
        double[] weights = new double[group.length];
        int m = 0;
        for (int p : perm) {
            double x = v[p];
            double wt = s == null ? 1 : s[group[p]];
            if (m > 0 && values[m - 1] == x) {
                weights[m - 1] += wt;
            } else {
                values[m] = x;
                weights[m++] = wt;
            }
        }
        return new OptimalKMeans1D(Arrays.copyOf(values, m), Arrays.copyOf(weights, m)).optimalCost(k);
    }

    private static int[] sortIndex(double[] v) {
        // Sort indices by value: pair each float value (exact in double) with its index.
        long[] pairs = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            int fbits = Float.floatToIntBits((float) v[i] + 0f);
            int sortable = fbits ^ ((fbits >> 31) & 0x7fffffff);
            pairs[i] = ((long) sortable << 32) | i;
        }
        Arrays.parallelSort(pairs);
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (int) pairs[i];
        }
        return out;
    }

    /** (Weighted) SSE of a reconstruction. */
    static double sse(float[] original, float[] rebuilt, float[] s) {
        double total = 0;
        for (int i = 0; i < original.length; i++) {
            double d = (double) original[i] - rebuilt[i];
            total += (s == null ? 1 : s[i]) * d * d;
        }
        return total;
    }

    static int distinct(float[] values, int[] group) {
        return (int) Arrays.stream(group).mapToObj(i -> values[i]).distinct().count();
    }
}
