package dev.palettizer.kmeans;

import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * Optimal weighted k-means of sorted distinct 1-D points, by the dynamic program over prefix sums
 * with the divide-and-conquer argmin optimisation (Wu 1991; Gronlund et al. 2017):
 * O(k n log n) time, O(n) memory for the cost alone, plus k*n ints to recover the clusters.
 * Ties go to the smaller split point, so the result is deterministic.
 */
public final class OptimalKMeans1D {
    /** Below this many columns a layer's recursion stays on one thread. */
    private static final int PARALLEL_MIN = 1 << 16;

    private final int n;
    private final double[] values;
    private final double mean;
    private final double[] w;
    private final double[] s1;
    private final double[] s2;

    /**
     * @param values distinct points in ascending order
     * @param weights their positive weights
     */
    public OptimalKMeans1D(double[] values, double[] weights) {
        if (values.length != weights.length) {
            throw new IllegalArgumentException(values.length + " values but " + weights.length + " weights");
        }
        n = values.length;
        this.values = values.clone();
        double total = 0;
        double weighted = 0;
        for (int i = 0; i < n; i++) {
            if (!(weights[i] > 0)) {
                throw new IllegalArgumentException("weight " + i + " is " + weights[i] + "; weights must be > 0");
            }
            if (i > 0 && !(values[i] > values[i - 1])) {
                throw new IllegalArgumentException("values must be distinct and ascending (index " + i + ")");
            }
            total += weights[i];
            weighted += weights[i] * values[i];
        }
        // Centred prefix sums keep S2 - S1^2/W well conditioned for tightly clustered values.
        mean = n == 0 ? 0 : weighted / total;
        w = new double[n + 1];
        s1 = new double[n + 1];
        s2 = new double[n + 1];
        for (int i = 0; i < n; i++) {
            double x = values[i] - mean;
            w[i + 1] = w[i] + weights[i];
            s1[i + 1] = s1[i] + weights[i] * x;
            s2[i + 1] = s2[i] + weights[i] * x * x;
        }
    }

    /** Weighted sum of squared distances of points [from, to) to their weighted mean. */
    private double cost(int from, int to) {
        double dw = w[to] - w[from];
        double d1 = s1[to] - s1[from];
        double c = s2[to] - s2[from] - d1 * d1 / dw;
        return c > 0 ? c : 0;
    }

    /** The optimal centroids in ascending order: min(k, n) of them. */
    public double[] centroids(int k) {
        if (k >= n) {
            // Each point is its own cluster: return it exactly rather than through the prefix sums.
            return values.clone();
        }
        int m = k;
        int[][] split = new int[m][];
        solve(m, split);
        double[] out = new double[m];
        int to = n;
        for (int c = m - 1; c >= 0; c--) {
            int from = c == 0 ? 0 : split[c][to];
            out[c] = (s1[to] - s1[from]) / (w[to] - w[from]) + mean;
            to = from;
        }
        return out;
    }

    /** The optimal weighted SSE with k clusters, without keeping the clusters (O(n) memory). */
    public double optimalCost(int k) {
        int m = Math.min(k, n);
        return m == 0 ? 0 : solve(m, null);
    }

    private double solve(int m, int[][] split) {
        double[] prev = new double[n + 1];
        for (int j = 1; j <= n; j++) {
            prev[j] = cost(0, j);
        }
        double[] cur = new double[n + 1];
        for (int c = 1; c < m; c++) {
            int[] arg = new int[n + 1];
            Layer layer = new Layer(prev, cur, arg, c, c + 1, n, c, n - 1);
            if (n >= PARALLEL_MIN) {
                layer.invoke();
            } else {
                layer.compute();
            }
            if (split != null) {
                split[c] = arg;
            }
            double[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[n];
    }

    /** Fills cur[j] for j in [lo, hi] given that the best split point lies in [optLo, optHi]. */
    private final class Layer extends RecursiveAction {
        private final double[] prev;
        private final double[] cur;
        private final int[] arg;
        private final int c;
        private final int lo;
        private final int hi;
        private final int optLo;
        private final int optHi;

        Layer(double[] prev, double[] cur, int[] arg, int c, int lo, int hi, int optLo, int optHi) {
            this.prev = prev;
            this.cur = cur;
            this.arg = arg;
            this.c = c;
            this.lo = lo;
            this.hi = hi;
            this.optLo = optLo;
            this.optHi = optHi;
        }

        @Override
        protected void compute() {
            if (lo > hi) {
                return;
            }
            int mid = (lo + hi) >>> 1;
            int best = Math.max(optLo, c);
            double bestCost = Double.POSITIVE_INFINITY;
            int last = Math.min(mid - 1, optHi);
            for (int i = best; i <= last; i++) {
                double v = prev[i] + cost(i, mid);
                if (v < bestCost) {
                    bestCost = v;
                    best = i;
                }
            }
            cur[mid] = bestCost;
            arg[mid] = best;
            Layer left = new Layer(prev, cur, arg, c, lo, mid - 1, optLo, best);
            Layer right = new Layer(prev, cur, arg, c, mid + 1, hi, best, optHi);
            if (hi - lo > PARALLEL_MIN && ForkJoinTask.inForkJoinPool()) {
                ForkJoinTask.invokeAll(left, right);
            } else {
                left.compute();
                right.compute();
            }
        }
    }
}
