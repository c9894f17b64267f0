package dev.palettizer.kmeans;

import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * Optimal weighted k-means of sorted distinct 1-D points, by the dynamic program over prefix sums
 * with the divide-and-conquer argmin optimisation (Wu 1991; Gronlund et al. 2017):
 * O(k n log n) time, O(n) memory for the cost alone. Recovering the clusters needs each layer's
 * split points, k*n ints; when those exceed {@link #SPLIT_TABLE_BUDGET} (8-bit exact on millions of
 * distinct values: gigabytes), layers are recomputed block by block from checkpointed cost rows,
 * which bounds the memory near 2 sqrt(2k) rows at twice the time, with the same result.
 * Ties go to the smaller split point, so the result is deterministic.
 *
 * <p>A {@link SplitKernel} prices each column's candidate splits, in scalar code or across SIMD lanes, with the
 * same bits (the process's: {@link SplitKernels}). A SIMD kernel also takes whole subtrees of the recursion whose split
 * window is narrow ({@link SplitKernel#windowWidth}) as one block: every column of the block priced over the
 * block's whole window, independently. Where the argmins found that way do not decrease from column to column,
 * they are the recursion's (each column's recursion window lies in the block's window and, by induction from
 * the block's root, contains that column's argmin), so the block stands; otherwise the recursion runs it.
 */
public final class OptimalKMeans1D {
    /** Below this many columns a layer's recursion stays on one thread. */
    private static final int PARALLEL_MIN = 1 << 16;
    /** Bytes of split points kept at once before switching to checkpointed recomputation. */
    static final long SPLIT_TABLE_BUDGET = 256L << 20;

    private final int n;
    private final double[] values;
    private final double mean;
    private final double[] w;
    private final double[] s1;
    private final double[] s2;
    private final SplitKernel kernel;

    /**
     * @param values distinct points in ascending order
     * @param weights their positive weights
     */
    public OptimalKMeans1D(double[] values, double[] weights) {
        this(values, weights, SplitKernels.chosen());
    }

    /** With {@code kernel} rather than the process's. */
    OptimalKMeans1D(double[] values, double[] weights, SplitKernel kernel) {
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
        this.kernel = kernel;
        w = new double[rowLength()];
        s1 = new double[rowLength()];
        s2 = new double[rowLength()];
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
        return centroids(k, SPLIT_TABLE_BUDGET);
    }

    /** {@link #centroids(int)} keeping at most about {@code splitTableBudget} bytes of split points at once. */
    double[] centroids(int k, long splitTableBudget) {
        if (k >= n) {
            // Each point is its own cluster: return it exactly rather than through the prefix sums.
            return values.clone();
        }
        if (k <= 0) {
            return new double[0];
        }
        double[] out = new double[k];
        int to = n;
        int layers = k - 1;
        if (layers > 0) {
            Layers dp = new Layers();
            int block = layers * 4L * (n + 1) <= splitTableBudget ? layers : (int) Math.ceil(Math.sqrt(2.0 * layers));
            int blocks = (layers + block - 1) / block;
            double[][] checkpoints = dp.checkpoints(blocks, block);
            int[][] split = new int[block][rowLength()];
            // Last block first: recompute its layers from its checkpoint, keeping their split points, and walk back.
            for (int b = blocks - 1; b >= 0; b--) {
                int first = b * block + 1;
                int last = Math.min((b + 1) * block, layers);
                double[] prev = checkpoints[b];
                checkpoints[b] = null;
                double[] next = new double[rowLength()];
                for (int c = first; c <= last; c++) {
                    if (c == layers) {
                        dp.lastColumn(prev, next, split[c - first], c);
                    } else {
                        dp.layer(prev, next, split[c - first], c);
                    }
                    double[] t = prev;
                    prev = next;
                    next = t;
                }
                for (int c = last; c >= first; c--) {
                    int from = split[c - first][to];
                    out[c] = centroid(from, to);
                    to = from;
                }
            }
        }
        out[0] = centroid(0, to);
        return out;
    }

    /** Weighted mean of points [from, to). */
    private double centroid(int from, int to) {
        return (s1[to] - s1[from]) / (w[to] - w[from]) + mean;
    }

    /** The optimal weighted SSE with k clusters, without keeping the clusters (O(n) memory). */
    public double optimalCost(int k) {
        int m = Math.min(k, n);
        if (m == 0) {
            return 0;
        }
        double[] prev = firstRow();
        if (m == 1) {
            return prev[n];
        }
        Layers dp = new Layers();
        double[] cur = new double[rowLength()];
        for (int c = 1; c < m - 1; c++) {
            dp.layer(prev, cur, null, c);
            double[] t = prev;
            prev = cur;
            cur = t;
        }
        dp.lastColumn(prev, cur, null, m - 1);
        return cur[n];
    }

    /** Costs of one cluster over the first j points. */
    private double[] firstRow() {
        double[] row = new double[rowLength()];
        for (int j = 1; j <= n; j++) {
            row[j] = cost(0, j);
        }
        return row;
    }

    /** Length of every row: columns 0..n and the padding the kernels read past them. */
    private int rowLength() {
        return n + 1 + kernel.padding();
    }

    /** The layers of one call, with a scratch row of argmins for layers that keep none. */
    private final class Layers {
        /** Blocks' argmins in layers that keep no split points. */
        private final int[] scratch = kernel.windowWidth() > 0 ? new int[rowLength()] : null;

        /** The cost rows at the start of each of {@code blocks} blocks of {@code block} layers: 0, block, 2 block, ... */
        double[][] checkpoints(int blocks, int block) {
            double[][] rows = new double[blocks][];
            rows[0] = firstRow();
            double[] prev = rows[0];
            double[] spare = null;
            for (int c = 1; c <= (blocks - 1) * block; c++) {
                double[] cur = spare != null ? spare : new double[rowLength()];
                layer(prev, cur, null, c);
                if (c % block == 0) {
                    rows[c / block] = cur;
                }
                // Row c - 1 is free for the next layer unless it is a checkpoint.
                spare = (c - 1) % block == 0 ? null : prev;
                prev = cur;
            }
            return rows;
        }

        /** Fills layer c's costs into {@code cur} from layer c - 1's in {@code prev}, and its split points into {@code arg} unless null. */
        void layer(double[] prev, double[] cur, int[] arg, int c) {
            if (n >= PARALLEL_MIN && ForkJoinTask.inForkJoinPool()) {
                new Half(prev, cur, arg, c, c + 1, n, c, n - 1).invoke();
            } else {
                fill(prev, cur, arg, c, c + 1, n, c, n - 1);
            }
        }

        /**
         * Layer c's cost and split point at column n alone, which is all the last layer needs: the recursion's
         * right spine, with the same windows as the whole layer (so the same bits) at O(n) instead of O(n log n).
         */
        void lastColumn(double[] prev, double[] cur, int[] arg, int c) {
            int optLo = c;
            for (int lo = c + 1; lo <= n; ) {
                int mid = (lo + n) >>> 1;
                optLo = column(prev, cur, arg, c, mid, optLo, n - 1);
                lo = mid + 1;
            }
        }

        /**
         * Fills cur[j] for j in [lo, hi] given that the best split point lies in [optLo, optHi], recursing
         * on the halves; a plain recursion, since the many small layers of grouped granularity would
         * otherwise allocate a task object per column.
         */
        private void fill(double[] prev, double[] cur, int[] arg, int c, int lo, int hi, int optLo, int optHi) {
            boolean narrow = optHi - Math.max(optLo, c) < kernel.windowWidth();
            if (narrow && lo <= hi && block(prev, cur, arg, c, lo, hi, optLo, optHi)) {
                return;
            }
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                int best = column(prev, cur, arg, c, mid, optLo, optHi);
                fill(prev, cur, arg, c, lo, mid - 1, optLo, best);
                lo = mid + 1;
                optLo = best;
            }
        }

        /**
         * Sets cur[mid] (and arg[mid]) to the cheapest split of the first mid points in [max(optLo, c),
         * min(mid - 1, optHi)], the first one on ties, and returns it.
         */
        private int column(double[] prev, double[] cur, int[] arg, int c, int mid, int optLo, int optHi) {
            return kernel.bestSplit(w, s1, s2, prev, cur, arg, mid, Math.max(optLo, c), Math.min(mid - 1, optHi));
        }

        /** Columns [lo, hi] as one block over their whole window (see the class comment): false where the recursion must run them. */
        private boolean block(double[] prev, double[] cur, int[] arg, int c, int lo, int hi, int optLo, int optHi) {
            int[] best = arg != null ? arg : scratch;
            kernel.fillWindow(w, s1, s2, prev, cur, best, lo, hi, Math.max(optLo, c), optHi);
            boolean ascending = true;
            for (int j = lo + 1; j <= hi; j++) {
                ascending &= best[j] >= best[j - 1];
            }
            return ascending;
        }

        /** {@link #fill} with the two halves forked while they are large. */
        private final class Half extends RecursiveAction {
            private final double[] prev;
            private final double[] cur;
            private final int[] arg;
            private final int c;
            private final int lo;
            private final int hi;
            private final int optLo;
            private final int optHi;

            Half(double[] prev, double[] cur, int[] arg, int c, int lo, int hi, int optLo, int optHi) {
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
                if (hi - lo <= PARALLEL_MIN) {
                    fill(prev, cur, arg, c, lo, hi, optLo, optHi);
                    return;
                }
                int mid = (lo + hi) >>> 1;
                int best = column(prev, cur, arg, c, mid, optLo, optHi);
                ForkJoinTask.invokeAll(new Half(prev, cur, arg, c, lo, mid - 1, optLo, best),
                        new Half(prev, cur, arg, c, mid + 1, hi, best, optHi));
            }
        }
    }
}
