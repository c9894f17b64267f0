package dev.palettizer.engine;

import dev.palettizer.spec.PalettizationSpec;
import java.util.Objects;

/** One tensor of a batch with its own spec and clustering mode (a config may differ per weight). */
public record TensorJob(TensorInput input, PalettizationSpec spec, ClusterMode mode) {
    public TensorJob {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(mode, "mode");
    }
}
