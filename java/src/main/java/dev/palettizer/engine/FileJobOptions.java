package dev.palettizer.engine;

import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import dev.palettizer.spec.SpecResolver;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Which tensors of a model file are palettized, and how.
 *
 * @param resolver chooses each tensor's spec and clustering mode, or leaves it alone (a
 *     {@code KMeansPalettizerConfig}, or {@link SpecResolver#uniform} for one spec everywhere)
 * @param weightThreshold only tensors with more elements than this are palettized (seed default 2048)
 * @param include1d palettize 1-D tensors (biases, norms) too, when the resolver asks for them
 * @param sensitivities safetensors file of per-element sensitivities under the same names, or null
 */
public record FileJobOptions(SpecResolver resolver, long weightThreshold, boolean include1d, Path sensitivities) {
    public static final long DEFAULT_WEIGHT_THRESHOLD = 2048;

    public FileJobOptions {
        Objects.requireNonNull(resolver, "resolver");
        if (weightThreshold < 0) {
            throw new SpecException("weight_threshold must be >= 0, got " + weightThreshold);
        }
    }

    /** The resolver's choices, with the default threshold, no 1-D tensors and no sensitivities. */
    public static FileJobOptions of(SpecResolver resolver) {
        return new FileJobOptions(resolver, DEFAULT_WEIGHT_THRESHOLD, false, null);
    }

    /** One spec for every tensor, clustered in the default mode ({@link EngineOptions#defaults()}). */
    public static FileJobOptions of(PalettizationSpec spec) {
        EngineOptions d = EngineOptions.defaults();
        return of(SpecResolver.uniform(spec, d.fastMode(), d.roundingPrecision()));
    }
}
