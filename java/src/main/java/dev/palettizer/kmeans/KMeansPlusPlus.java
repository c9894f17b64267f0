package dev.palettizer.kmeans;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * k-means++ seeding (Arthur and Vassilvitskii 2007) of weighted vectors: the first centre drawn
 * by weight, each next one with probability proportional to weight times squared distance to the
 * nearest centre chosen so far. Stops early when every point coincides with a centre; the
 * remaining entries repeat the last centre.
 */
public final class KMeansPlusPlus {
    private KMeansPlusPlus() {}

    /**
     * @param points n vectors of dim floats, vector-major
     * @param weights per-component weights (same layout), or null for 1
     * @return k centres of dim floats
     */
    public static float[] seed(float[] points, float[] weights, int dim, int k, SplittableRandom random) {
        int n = points.length / dim;
        if (n == 0) {
            throw new IllegalArgumentException("cannot seed k-means++ from no points");
        }
        double[] pointWeight = new double[n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int t = 0; t < dim; t++) {
                sum += weights == null ? 1 : weights[i * dim + t];
            }
            pointWeight[i] = sum / dim;
        }
        float[] centres = new float[k * dim];
        double[] nearest = new double[n];
        Arrays.fill(nearest, Double.POSITIVE_INFINITY);
        int chosen = draw(pointWeight, random);
        int count = 0;
        while (true) {
            System.arraycopy(points, chosen * dim, centres, count * dim, dim);
            count++;
            if (count == k) {
                return centres;
            }
            double total = 0;
            for (int i = 0; i < n; i++) {
                double d = 0;
                for (int t = 0; t < dim; t++) {
                    double diff = points[i * dim + t] - points[chosen * dim + t];
                    d += (weights == null ? 1 : weights[i * dim + t]) * diff * diff;
                }
                nearest[i] = Math.min(nearest[i], d);
                total += nearest[i];
            }
            if (total == 0) {
                break;
            }
            chosen = draw(nearest, random);
        }
        for (int c = count; c < k; c++) {
            System.arraycopy(centres, (count - 1) * dim, centres, c * dim, dim);
        }
        return centres;
    }

    /** Index drawn with probability proportional to p[i] (p >= 0, not all 0). */
    private static int draw(double[] p, SplittableRandom random) {
        double total = 0;
        for (double v : p) {
            total += v;
        }
        double target = random.nextDouble() * total;
        double acc = 0;
        for (int i = 0; i < p.length; i++) {
            acc += p[i];
            if (acc > target && p[i] > 0) {
                return i;
            }
        }
        for (int i = p.length - 1; i >= 0; i--) {
            if (p[i] > 0) {
                return i;
            }
        }
        return 0;
    }
}
