package dev.palettizer.backend;

/**
 * Per group and LUT entry, the weighted sums of the members' components and their weights
 * (laid out [group][entry][component]): Lloyd's centroid update is {@code sums / weights}.
 */
public record CentroidSums(double[] sums, double[] weights) {

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
