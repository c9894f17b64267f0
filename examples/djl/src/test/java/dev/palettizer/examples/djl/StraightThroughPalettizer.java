package dev.palettizer.examples.djl;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A palettizing {@link WeightTransform} for tests, simpler than DKM: from step {@code milestone} on,
 * w_hat is w snapped to the nearest of 2^bits per-tensor centroids (a few warm-started Lloyd
 * iterations per step), and the gradient passes straight through (dL/dw = dL/dw_hat). It checks that
 * palettization-aware training through the {@link WeightHook} recovers accuracy that post-training
 * palettization loses, before the real DKM transform is plugged in.
 */
final class StraightThroughPalettizer implements WeightTransform {
    private static final int LLOYD_ITERATIONS = 3;
    private final int clusters;
    private final int milestone;
    private final Map<String, float[]> centroids = new HashMap<>();
    private int steps;

    StraightThroughPalettizer(int bits, int milestone) {
        this.clusters = 1 << bits;
        this.milestone = milestone;
    }

    @Override
    public void step() {
        steps++;
    }

    @Override
    public void forward(String name, float[] w, float[] out) {
        if (steps < milestone) {
            System.arraycopy(w, 0, out, 0, w.length);
        } else {
            export(name, w, out);
        }
    }

    @Override
    public void backward(String name, float[] gradOut, float[] gradIn) {
        System.arraycopy(gradOut, 0, gradIn, 0, gradOut.length);
    }

    /** The hard palettization: w snapped to its tensor's centroids. */
    @Override
    public void export(String name, float[] w, float[] out) {
        float[] c = centroids.computeIfAbsent(name, n -> quantiles(w));
        int[] nearest = new int[w.length];
        for (int it = 0; it < LLOYD_ITERATIONS; it++) {
            double[] sum = new double[clusters];
            int[] count = new int[clusters];
            for (int i = 0; i < w.length; i++) {
                nearest[i] = nearest(c, w[i]);
                sum[nearest[i]] += w[i];
                count[nearest[i]]++;
            }
            for (int j = 0; j < clusters; j++) {
                if (count[j] > 0) {
                    c[j] = (float) (sum[j] / count[j]);
                }
            }
        }
        for (int i = 0; i < w.length; i++) {
            out[i] = c[nearest(c, w[i])];
        }
    }

    private float[] quantiles(float[] w) {
        float[] sorted = w.clone();
        Arrays.sort(sorted);
        float[] c = new float[clusters];
        for (int j = 0; j < clusters; j++) {
            c[j] = sorted[(int) ((j + 0.5) * sorted.length / clusters)];
        }
        return c;
    }

    private static int nearest(float[] c, float v) {
        int best = 0;
        for (int j = 1; j < c.length; j++) {
            if (Math.abs(v - c[j]) < Math.abs(v - c[best])) {
                best = j;
            }
        }
        return best;
    }
}
