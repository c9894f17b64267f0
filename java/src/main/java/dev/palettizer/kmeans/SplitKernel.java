package dev.palettizer.kmeans;

/**
 * How {@link OptimalKMeans1D} prices a column's candidate splits: in scalar code, or across SIMD lanes. Both
 * compute each candidate's cost by the same expression, prev[i] + max'(s2[mid] - s2[i] - d1 * d1 / dw, +0)
 * with d1 = s1[mid] - s1[i] and dw = w[mid] - w[i] (max' maps NaN to +0), and keep the first cheapest, so they
 * return the same bits. The arrays hold {@link #padding()} readable entries past the last column.
 */
sealed interface SplitKernel permits ScalarSplitKernel, VectorSplitKernel {
    /**
     * Sets cur[mid] (and arg[mid] unless arg is null) to the cheapest split of the first mid points among
     * [first, last], the first one on ties (+Inf and {@code first} when none is finite), and returns it.
     */
    int bestSplit(double[] w, double[] s1, double[] s2, double[] prev, double[] cur, int[] arg,
            int mid, int first, int last);

    /**
     * Windows at most this wide are worth {@link #fillWindow} over the recursion; 0 when never. A kernel that
     * prices many columns against one window at once pays no per-column overhead there.
     */
    int windowWidth();

    /**
     * For every column j in [lo, hi], the cheapest split among [first, min(j - 1, last)] as
     * {@link #bestSplit} would find it: its cost into cur[j] and the split into best[j].
     */
    default void fillWindow(double[] w, double[] s1, double[] s2, double[] prev, double[] cur, int[] best,
            int lo, int hi, int first, int last) {
        for (int j = lo; j <= hi; j++) {
            bestSplit(w, s1, s2, prev, cur, best, j, first, Math.min(j - 1, last));
        }
    }

    /** Entries the arrays must hold past index n for this kernel's loads. */
    int padding();
}
