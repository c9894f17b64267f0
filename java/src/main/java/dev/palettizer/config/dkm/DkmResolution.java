package dev.palettizer.config.dkm;

import dev.palettizer.spec.DkmSpec;
import dev.palettizer.spec.SpecException;
import java.util.Objects;

/**
 * What {@link DKMPalettizerConfig#resolve} decided for one weight: palettize it with DKM, or leave it
 * alone. Either way {@link #rule()} says what decided, for reports and logs, in the config's own terms
 * (e.g. {@code module_type_configs.Conv2d[1]}, {@code module_name_configs."lm_head": null}).
 */
public sealed interface DkmResolution {

    String rule();

    /**
     * Palettize the weight.
     *
     * @param spec      the DKM parameters, n_bits resolved for the weight's module type and the seed applied
     * @param milestone the step at which palettization begins (>= 0)
     * @param maxMem    the fraction of the accelerator's memory DKM may use for this weight, in (0, 1]
     * @param rule      the module config that decided, e.g. {@code global_config} or {@code module_type_configs.Linear}
     */
    record Palettize(DkmSpec spec, int milestone, double maxMem, String rule) implements DkmResolution {
        public Palettize {
            Objects.requireNonNull(spec, "spec");
            Objects.requireNonNull(rule, "rule");
            if (milestone < 0) {
                throw new SpecException("milestone: must be a step >= 0, got " + milestone);
            }
            if (!(maxMem > 0 && maxMem <= 1)) {
                throw new SpecException("palett_max_mem: must be a fraction in (0, 1], got " + maxMem);
            }
        }
    }

    /** Leave the weight as it is, because of {@code rule}. */
    record Leave(String rule) implements DkmResolution {
        public Leave {
            Objects.requireNonNull(rule, "rule");
        }
    }
}
