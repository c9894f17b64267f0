package dev.palettizer.bench;

import java.util.Arrays;

/**
 * One formula for every clusterer's error: each value goes to its nearest centroid, whatever
 * assignment the clusterer itself made, and the squared errors are summed in double.
 */
final class Sse {
    private Sse() {}

    static double of(float[] values, double[] centroids) {
        double[] c = centroids.clone();
        Arrays.sort(c);
        double sse = 0;
        for (float v : values) {
            int i = Arrays.binarySearch(c, v);
            if (i < 0) {
                int above = -i - 1;
                i = above == c.length || (above > 0 && v - c[above - 1] <= c[above] - v) ? above - 1 : above;
            }
            double e = v - c[i];
            sse += e * e;
        }
        return sse;
    }

    static double[] toDoubles(float[] lut) {
        double[] out = new double[lut.length];
        for (int i = 0; i < lut.length; i++) {
            out[i] = lut[i];
        }
        return out;
    }
}
