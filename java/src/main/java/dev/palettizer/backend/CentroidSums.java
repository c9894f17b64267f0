package dev.palettizer.backend;

/**
 * Per group and LUT entry, the weighted sums of the members' components and their weights
 * (laid out [group][entry][component]): Lloyd's centroid update is {@code sums / weights}.
 */
public record CentroidSums(double[] sums, double[] weights) {

    /**
     * Copies a device batch's per-group totals, laid out [group - g0][sums of perGroup, then weights of
     * perGroup], into the [group][entry][component] arrays of the whole tensor.
     */
    public static void scatterBatch(double[] totals, int g0, int g1, int perGroup, double[] sums, double[] weights) {
        for (int g = g0; g < g1; g++) {
            int from = (g - g0) * 2 * perGroup;
            System.arraycopy(totals, from, sums, g * perGroup, perGroup);
            System.arraycopy(totals, from + perGroup, weights, g * perGroup, perGroup);
        }
    }

    /** Each entry moves to the weighted mean of its members; entries without members stay. */
    public float[] updatedLut(float[] lut) {
        float[] next = lut.clone();
        for (int i = 0; i < next.length; i++) {
            if (weights[i] > 0) {
                next[i] = (float) (sums[i] / weights[i]);
            }
        }
        return next;
    }
}
