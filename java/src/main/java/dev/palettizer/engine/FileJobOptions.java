package dev.palettizer.engine;

import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import java.nio.file.Path;

/**
 * Which tensors of a model file are palettized, and how.
 *
 * @param weightThreshold tensors with fewer elements are copied as they are (seed default 2048)
 * @param include1d palettize 1-D tensors (biases, norms) too
 * @param sensitivities safetensors file of per-element sensitivities under the same names, or null
 */
public record FileJobOptions(PalettizationSpec spec, long weightThreshold, boolean include1d, Path sensitivities) {
    public static final long DEFAULT_WEIGHT_THRESHOLD = 2048;

    public FileJobOptions {
        if (weightThreshold < 0) {
            throw new SpecException("weight_threshold must be >= 0, got " + weightThreshold);
        }
    }

    public static FileJobOptions of(PalettizationSpec spec) {
        return new FileJobOptions(spec, DEFAULT_WEIGHT_THRESHOLD, false, null);
    }
}
