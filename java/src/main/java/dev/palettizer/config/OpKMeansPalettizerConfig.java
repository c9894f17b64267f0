package dev.palettizer.config;

import dev.palettizer.spec.PalettizationSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How to palettize the states of one op (seed 001's {@code OpKMeansPalettizerConfig}); the values of
 * a module config's {@code op_type_config} and {@code op_name_config}.
 *
 * @param opStateSpec spec per state name ("weight", "bias", or {@code "*"} for every state without
 *     its own key); a null value leaves that state alone; a null map leaves every state of the op alone
 */
public record OpKMeansPalettizerConfig(Map<String, PalettizationSpec> opStateSpec) {

    public OpKMeansPalettizerConfig {
        opStateSpec = opStateSpec == null ? null : Rules.copy(opStateSpec);
    }

    /** The seed's default: 4-bit per-tensor on {@code weight} and {@code in_proj_weight}. */
    public static OpKMeansPalettizerConfig defaults() {
        return of(PalettizationSpec.defaults());
    }

    /** One spec for the states the seed palettizes by default, {@code weight} and {@code in_proj_weight}. */
    public static OpKMeansPalettizerConfig of(PalettizationSpec spec) {
        return new OpKMeansPalettizerConfig(defaultStateSpec(spec));
    }

    /** Palettizes no state of the op. */
    public static OpKMeansPalettizerConfig disabled() {
        return new OpKMeansPalettizerConfig(null);
    }

    /** {@code weight} and {@code in_proj_weight} (the packed q/k/v of attention modules), both with {@code spec}. */
    static Map<String, PalettizationSpec> defaultStateSpec(PalettizationSpec spec) {
        Map<String, PalettizationSpec> m = new LinkedHashMap<>();
        m.put("weight", spec);
        m.put("in_proj_weight", spec);
        return m;
    }
}
