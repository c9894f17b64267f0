package dev.palettizer.engine;

import dev.palettizer.spec.SpecException;
import java.util.Objects;

/**
 * Engine settings that are not part of a tensor's spec.
 *
 * @param fastMode cluster the values rounded to fp16 and then to {@code roundingPrecision}
 *     decimals (the seed's enable_fast_kmeans_mode; scalar only)
 * @param seed seeds k-means++; same input and seed give the same LUT bits
 * @param maxIterations Lloyd iterations at most for k-means++ (the optimal path needs one)
 * @param tolerance Lloyd stops once an iteration lowers the weighted SSE by less than this fraction
 */
public record EngineOptions(boolean fastMode, int roundingPrecision, long seed, Algorithm algorithm,
                            int maxIterations, double tolerance) {
    public EngineOptions {
        if (roundingPrecision < 1) {
            throw new SpecException("rounding_precision must be a positive integer, got " + roundingPrecision);
        }
        if (maxIterations < 1) {
            throw new SpecException("max iterations must be >= 1, got " + maxIterations);
        }
        if (!(tolerance >= 0)) {
            throw new SpecException("tolerance must be >= 0, got " + tolerance);
        }
        Objects.requireNonNull(algorithm, "algorithm");
    }

    /** The clustering mode for tensors whose job does not choose one. */
    public ClusterMode clusterMode() {
        return new ClusterMode(fastMode, roundingPrecision);
    }

    public static EngineOptions defaults() {
        return new EngineOptions(true, 4, 0, Algorithm.AUTO, 20, 1e-5);
    }

    public EngineOptions withFastMode(boolean on) {
        return new EngineOptions(on, roundingPrecision, seed, algorithm, maxIterations, tolerance);
    }

    public EngineOptions withSeed(long s) {
        return new EngineOptions(fastMode, roundingPrecision, s, algorithm, maxIterations, tolerance);
    }

    public EngineOptions withAlgorithm(Algorithm a) {
        return new EngineOptions(fastMode, roundingPrecision, seed, a, maxIterations, tolerance);
    }

    public EngineOptions withRoundingPrecision(int decimals) {
        return new EngineOptions(fastMode, decimals, seed, algorithm, maxIterations, tolerance);
    }
}
