package dev.palettizer.kmeans;

/** {@link SplitKernel} in plain Java: what every JVM runs, and what the SIMD kernel must equal. */
final class ScalarSplitKernel implements SplitKernel {
    static final ScalarSplitKernel INSTANCE = new ScalarSplitKernel();
    private static final long INFINITY_BITS = Double.doubleToRawLongBits(Double.POSITIVE_INFINITY);

    private ScalarSplitKernel() {}

    @Override
    public int bestSplit(double[] w, double[] s1, double[] s2, double[] prev, double[] cur, int[] arg,
            int mid, int first, int last) {
        double wm = w[mid];
        double s1m = s1[mid];
        double s2m = s2[mid];
        int best = first;
        long bestBits = INFINITY_BITS;
        // Most windows hold a few splits, where the cost is branch mispredictions, not arithmetic: so two
        // splits per step (past the end the last one again: equal, so never better), with two independent
        // divisions, and an argmin by conditional moves on the costs' bits (see splitCost), strict so that
        // ties keep the earlier split. Same results as one split at a time with a branch.
        for (int i = first; i <= last; i += 2) {
            int i1 = Math.min(i + 1, last);
            long b0 = Double.doubleToRawLongBits(splitCost(w, s1, s2, prev, wm, s1m, s2m, i));
            long b1 = Double.doubleToRawLongBits(splitCost(w, s1, s2, prev, wm, s1m, s2m, i1));
            boolean t0 = b0 < bestBits;
            best = t0 ? i : best;
            bestBits = t0 ? b0 : bestBits;
            boolean t1 = b1 < bestBits;
            best = t1 ? i1 : best;
            bestBits = t1 ? b1 : bestBits;
        }
        cur[mid] = Double.longBitsToDouble(bestBits);
        if (arg != null) {
            arg[mid] = best;
        }
        return best;
    }

    /**
     * prev[i] + cost(i, mid), the cost term for term so that the sums are the same bits. Row entries are
     * such sums or +Inf, from a first row of clamped costs, so the result is +0 to +Inf, never -0 or NaN:
     * its raw bits, as a signed long, order as its value does.
     */
    private static double splitCost(double[] w, double[] s1, double[] s2, double[] prev,
            double wm, double s1m, double s2m, int i) {
        double dw = wm - w[i];
        double d1 = s1m - s1[i];
        double cost = s2m - s2[i] - d1 * d1 / dw;
        return prev[i] + (cost > 0 ? cost : 0);
    }

    /** Never: its per-column cost is the arithmetic itself, which whole windows would only add to. */
    @Override
    public int windowWidth() {
        return 0;
    }

    @Override
    public int padding() {
        return 0;
    }
}
