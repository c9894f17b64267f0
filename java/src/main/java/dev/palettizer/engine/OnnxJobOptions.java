package dev.palettizer.engine;

import dev.palettizer.spec.SpecException;
import dev.palettizer.spec.SpecResolver;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Which initializers of an ONNX model are palettized, how, and what is written.
 *
 * @param resolver decides per weight (spec and clustering mode, or leave it); asked only for float
 *     initializers that pass the size filters below
 * @param weightThreshold initializers with fewer elements are copied as they are (seed default 2048)
 * @param include1d palettize 1-D initializers (biases, norms) too
 * @param sensitivities safetensors file of per-element sensitivities under the initializer names,
 *     in the initializers' stored shapes, or null
 * @param output compressed or dense ONNX
 */
public record OnnxJobOptions(SpecResolver resolver, long weightThreshold, boolean include1d, Path sensitivities,
                             OnnxOutput output) {
    public OnnxJobOptions {
        Objects.requireNonNull(resolver, "resolver");
        Objects.requireNonNull(output, "output");
        if (weightThreshold < 0) {
            throw new SpecException("weight_threshold must be >= 0, got " + weightThreshold);
        }
    }

    /** Compressed output, default size filters, no sensitivities. */
    public static OnnxJobOptions of(SpecResolver resolver) {
        return new OnnxJobOptions(resolver, FileJobOptions.DEFAULT_WEIGHT_THRESHOLD, false, null, OnnxOutput.COMPRESSED);
    }

    public OnnxJobOptions withOutput(OnnxOutput o) {
        return new OnnxJobOptions(resolver, weightThreshold, include1d, sensitivities, o);
    }
}
