package dev.palettizer.config;

import dev.palettizer.model.WeightSite;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import dev.palettizer.spec.WeightDecision;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SequencedMap;

/**
 * How to palettize the weights of one module (seed 001's {@code ModuleKMeansPalettizerConfig}).
 *
 * <p>For a state of the module: its {@code module_state_spec} entry (own key, else {@code "*"})
 * decides if there is one, overriding every op-level setting and applying even to tensors no op
 * consumes. Otherwise the op that consumes the state decides: the first {@code op_name_config} entry
 * whose key (exact, else a regex matching the whole op name) fits, else the {@code op_type_config}
 * entry of the op's type, else this module's {@code op_state_spec}; within the chosen op state specs,
 * the state's own key, else {@code "*"}. A null anywhere on that path leaves the tensor alone, and so
 * does a missing entry. Tensors consumed by no op get only the module-level settings.
 *
 * @param opStateSpec op state specs for ops without a more specific entry; null palettizes no op state
 * @param opTypeConfig per op type ("linear", "MatMul", or a qualified name such as "aten.linear.default"); null value disables
 * @param opNameConfig per op name, exact or regex over the whole name, in this order of priority; null value disables
 * @param moduleStateSpec specs per state of the module itself, overriding the op-level ones; null value disables
 * @param enableFastKMeansMode cluster values cast to fp16 and rounded to {@code roundingPrecision} decimals; scalars only
 * @param roundingPrecision decimals kept in fast mode, >= 1
 */
public record ModuleKMeansPalettizerConfig(
        Map<String, PalettizationSpec> opStateSpec,
        Map<String, OpKMeansPalettizerConfig> opTypeConfig,
        SequencedMap<String, OpKMeansPalettizerConfig> opNameConfig,
        Map<String, PalettizationSpec> moduleStateSpec,
        boolean enableFastKMeansMode,
        int roundingPrecision) {

    public static final boolean DEFAULT_FAST_MODE = true;
    public static final int DEFAULT_ROUNDING_PRECISION = 4;

    public ModuleKMeansPalettizerConfig {
        opStateSpec = opStateSpec == null ? null : Rules.copy(opStateSpec);
        opTypeConfig = Rules.copy(opTypeConfig);
        opNameConfig = Rules.copy(opNameConfig);
        moduleStateSpec = Rules.copy(moduleStateSpec);
        if (roundingPrecision < 1) {
            throw new SpecException("rounding_precision: must be a positive integer, got " + roundingPrecision);
        }
        for (String pattern : opNameConfig.keySet()) {
            Rules.patternProblem(pattern).ifPresent(p -> {
                throw new SpecException(ConfigPath.of("op_name_config", pattern).describe(p));
            });
        }
        if (enableFastKMeansMode) {
            refuseVectors(ConfigPath.of("op_state_spec"), opStateSpec);
            refuseVectors(ConfigPath.of("module_state_spec"), moduleStateSpec);
            opTypeConfig.forEach((k, op) -> refuseVectors(ConfigPath.of("op_type_config", k, "op_state_spec"),
                    op == null ? null : op.opStateSpec()));
            opNameConfig.forEach((k, op) -> refuseVectors(ConfigPath.of("op_name_config", k, "op_state_spec"),
                    op == null ? null : op.opStateSpec()));
        }
    }

    /** Fast mode rounds scalar values, so it cannot serve vector centroids (seed 001's validation). */
    private static void refuseVectors(ConfigPath at, Map<String, PalettizationSpec> specs) {
        if (specs == null) {
            return;
        }
        specs.forEach((state, spec) -> {
            if (spec != null && spec.clusterDim() > 1) {
                throw new SpecException(at.resolve(state).describe("cluster_dim " + spec.clusterDim()
                        + " is not supported with enable_fast_kmeans_mode true (fast mode rounds scalar values);"
                        + " set enable_fast_kmeans_mode: false in this module config, or cluster_dim: 1"));
            }
        });
    }

    /** The seed's default: 4-bit per-tensor on {@code weight} and {@code in_proj_weight}, fast mode, 4 decimals. */
    public static ModuleKMeansPalettizerConfig defaults() {
        return of(PalettizationSpec.defaults());
    }

    /** The defaults with {@code spec} on {@code weight} and {@code in_proj_weight}. */
    public static ModuleKMeansPalettizerConfig of(PalettizationSpec spec) {
        return new ModuleKMeansPalettizerConfig(OpKMeansPalettizerConfig.defaultStateSpec(spec), null, null, null,
                DEFAULT_FAST_MODE, DEFAULT_ROUNDING_PRECISION);
    }

    public ModuleKMeansPalettizerConfig withOpStateSpec(Map<String, PalettizationSpec> specs) {
        return new ModuleKMeansPalettizerConfig(specs, opTypeConfig, opNameConfig, moduleStateSpec,
                enableFastKMeansMode, roundingPrecision);
    }

    /** Adds or replaces one op type entry (null: leave ops of that type alone). */
    public ModuleKMeansPalettizerConfig withOpTypeConfig(String opType, OpKMeansPalettizerConfig op) {
        return new ModuleKMeansPalettizerConfig(opStateSpec, with(opTypeConfig, opType, op), opNameConfig,
                moduleStateSpec, enableFastKMeansMode, roundingPrecision);
    }

    /** Adds (last in priority) or replaces one op name entry (null: leave matching ops alone). */
    public ModuleKMeansPalettizerConfig withOpNameConfig(String opName, OpKMeansPalettizerConfig op) {
        return new ModuleKMeansPalettizerConfig(opStateSpec, opTypeConfig, with(opNameConfig, opName, op),
                moduleStateSpec, enableFastKMeansMode, roundingPrecision);
    }

    /** Adds or replaces one module state entry (null: leave that state alone, whatever the ops say). */
    public ModuleKMeansPalettizerConfig withModuleStateSpec(String state, PalettizationSpec spec) {
        return new ModuleKMeansPalettizerConfig(opStateSpec, opTypeConfig, opNameConfig,
                with(moduleStateSpec, state, spec), enableFastKMeansMode, roundingPrecision);
    }

    public ModuleKMeansPalettizerConfig withFastKMeansMode(boolean on) {
        return new ModuleKMeansPalettizerConfig(opStateSpec, opTypeConfig, opNameConfig, moduleStateSpec, on,
                roundingPrecision);
    }

    public ModuleKMeansPalettizerConfig withRoundingPrecision(int decimals) {
        return new ModuleKMeansPalettizerConfig(opStateSpec, opTypeConfig, opNameConfig, moduleStateSpec,
                enableFastKMeansMode, decimals);
    }

    static <V> SequencedMap<String, V> with(Map<String, V> map, String key, V value) {
        SequencedMap<String, V> next = new LinkedHashMap<>(map);
        next.put(Objects.requireNonNull(key, "key"), value);
        return next;
    }

    /** The decision for one state of this module; {@code at} is where this module config sits. */
    WeightDecision decide(WeightSite site, ConfigPath at) {
        String state = site.stateName();
        Optional<String> own = Rules.byState(moduleStateSpec, state);
        if (own.isPresent()) {
            return decision(moduleStateSpec.get(own.get()), at.resolve("module_state_spec").resolve(own.get()));
        }
        if (site.opType().isEmpty()) {
            return WeightDecision.leave(at.describe("no op consumes '" + state
                    + "' (op-level specs do not apply) and module_state_spec has no entry for it"));
        }
        Map<String, PalettizationSpec> specs = opStateSpec;
        ConfigPath specsAt = at.resolve("op_state_spec");
        Optional<String> named = Rules.byName(opNameConfig, site.opName());
        Optional<String> typed = named.isPresent() ? Optional.empty() : Rules.byType(opTypeConfig, site.opType());
        if (named.isPresent() || typed.isPresent()) {
            String kind = named.isPresent() ? "op_name_config" : "op_type_config";
            String key = named.orElseGet(typed::get);
            OpKMeansPalettizerConfig op = (named.isPresent() ? opNameConfig : opTypeConfig).get(key);
            ConfigPath opAt = at.resolve(kind).resolve(key);
            if (op == null) {
                return WeightDecision.leave(opAt.describe("null"));
            }
            specs = op.opStateSpec();
            specsAt = opAt.resolve("op_state_spec");
        }
        if (specs == null) {
            return WeightDecision.leave(specsAt.describe("null"));
        }
        Optional<String> key = Rules.byState(specs, state);
        if (key.isEmpty()) {
            return WeightDecision.leave(specsAt.describe("no entry for '" + state + "' and no \"*\""));
        }
        return decision(specs.get(key.get()), specsAt.resolve(key.get()));
    }

    private WeightDecision decision(PalettizationSpec spec, ConfigPath at) {
        return spec == null ? WeightDecision.leave(at.describe("null"))
                : WeightDecision.palettize(spec, enableFastKMeansMode, roundingPrecision, at.toString());
    }

    /** Equal when every field is, with op_name_config entries in the same order (it decides among regexes). */
    @Override
    public boolean equals(Object o) {
        return o instanceof ModuleKMeansPalettizerConfig m && Objects.equals(opStateSpec, m.opStateSpec)
                && opTypeConfig.equals(m.opTypeConfig) && Rules.sameInOrder(opNameConfig, m.opNameConfig)
                && moduleStateSpec.equals(m.moduleStateSpec) && enableFastKMeansMode == m.enableFastKMeansMode
                && roundingPrecision == m.roundingPrecision;
    }

    @Override
    public int hashCode() {
        return Objects.hash(opStateSpec, opTypeConfig, opNameConfig, moduleStateSpec, enableFastKMeansMode,
                roundingPrecision);
    }
}
