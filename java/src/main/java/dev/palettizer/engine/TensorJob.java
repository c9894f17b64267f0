package dev.palettizer.engine;

import dev.palettizer.spec.PalettizationSpec;
import java.util.Objects;

/** One tensor of a batch with its own spec and clustering settings (a config may differ per weight). */
public record TensorJob(TensorInput input, PalettizationSpec spec, EngineOptions options) {
    public TensorJob {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(options, "options");
    }
}
