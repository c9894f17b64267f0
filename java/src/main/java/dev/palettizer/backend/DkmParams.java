package dev.palettizer.backend;

import dev.palettizer.spec.DkmMode;

/**
 * What one DKM iteration's per-point math needs besides the point and the centroids (see {@link DkmPointMath}).
 *
 * @param k            centroids per LUT
 * @param dim          values per point
 * @param mode         dkm, gsm or hard attention
 * @param tau          softmax temperature
 * @param prune        subtracted from every point's squared distance to centroid 0 (0 = none)
 * @param keepSparsity coremltools' enforce_zero without pruning: non-zero points get the constant
 *                     distance {@link DkmPointMath#MASKED_DISTANCE} to centroid 0, so only exact zeros join it
 * @param noiseKey     Gumbel-noise key of this (seed, step, iteration); unused unless mode is gsm
 */
public record DkmParams(int k, int dim, DkmMode mode, double tau, double prune, boolean keepSparsity, long noiseKey) {

    public DkmParams {
        if (k < 1 || dim < 1 || !(tau > 0) || prune < 0) {
            throw new IllegalArgumentException("bad DKM params: k " + k + ", dim " + dim + ", tau " + tau + ", prune " + prune);
        }
    }

    /** Per-partition stride of centroid tables: k * dim. */
    public int lutStride() {
        return k * dim;
    }
}
