package dev.palettizer.engine;

import dev.palettizer.spec.SpecException;

/**
 * How one tensor's values are clustered: exact, or (fast) cast to fp16 and rounded to
 * {@code roundingPrecision} decimals first (seed 001's {@code enable_fast_kmeans_mode} and
 * {@code rounding_precision}). A config can choose it per module; {@link EngineOptions} holds the default.
 */
public record ClusterMode(boolean fast, int roundingPrecision) {
    public ClusterMode {
        if (roundingPrecision < 1) {
            throw new SpecException("rounding_precision must be a positive integer, got " + roundingPrecision);
        }
    }
}
