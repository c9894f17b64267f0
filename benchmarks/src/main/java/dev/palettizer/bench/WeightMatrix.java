package dev.palettizer.bench;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The fixed benchmark inputs: a Laplace(0, 0.02) fp32 weight matrix (trained weights are roughly
 * Laplacian) and uniform(0, 1) sensitivities, both from seeded generators, so that every run and
 * every machine palettizes the same numbers.
 */
final class WeightMatrix {
    static final int ROWS = 4096;
    static final int COLS = 4096;
    static final double SCALE = 0.02;
    static final long WEIGHT_SEED = 42;
    static final long SENSITIVITY_SEED = 43;
    /** Peers cannot finish the full matrix in benchmark time; they get its first 64 rows. */
    static final int SUBSAMPLE_ROWS = 64;
    static final int SUBSAMPLE = SUBSAMPLE_ROWS * COLS;
    static final String SUBSAMPLE_TEXT = "first " + SUBSAMPLE + " values (rows 0-" + (SUBSAMPLE_ROWS - 1)
            + ", row-major) of the " + ROWS + "x" + COLS + " Laplace(0, " + SCALE + ") matrix, seed " + WEIGHT_SEED;

    private WeightMatrix() {}

    /** The first {@code n} values of the weight stream; n = ROWS * COLS is the whole matrix. */
    static float[] weights(int n) {
        SplittableRandom random = new SplittableRandom(WEIGHT_SEED);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            // 1 - nextDouble() lies in (0, 1], so the logarithm is finite.
            double magnitude = -SCALE * Math.log(1 - random.nextDouble());
            out[i] = (float) (random.nextBoolean() ? magnitude : -magnitude);
        }
        return out;
    }

    static float[] sensitivities(int n) {
        SplittableRandom random = new SplittableRandom(SENSITIVITY_SEED);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) random.nextDouble();
        }
        return out;
    }

    static float[] subsample(float[] matrix) {
        return Arrays.copyOf(matrix, SUBSAMPLE);
    }
}
