package dev.palettizer.config;

import dev.palettizer.model.WeightSite;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import dev.palettizer.spec.SpecResolver;
import dev.palettizer.spec.WeightDecision;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SequencedMap;

/**
 * Which weights of a model to palettize, and how (seed 001's {@code KMeansPalettizerConfig}).
 * Immutable; load and save it with {@link ConfigFiles}.
 *
 * <p>A weight's module config is looked up from the most to the least specific rule, and the first
 * hit decides alone (configs are never merged): the {@code module_name_configs} entry whose key equals
 * the module name, else the first, in document order, whose regex matches the whole module name; else
 * the {@code module_type_configs} entry of the module's type (exact, else a qualified key such as
 * {@code torch.nn.modules.linear.Linear}); else {@code global_config}. A null module config leaves
 * every weight of the module alone. Within the module config, see {@link ModuleKMeansPalettizerConfig}.
 *
 * @param globalConfig for modules no other rule names; null palettizes nothing by default
 * @param moduleTypeConfigs per module type ("Linear", "Conv2d", ...); null value disables
 * @param moduleNameConfigs per module name, exact or regex over the whole name, in this order of priority;
 *     null value disables
 */
public record KMeansPalettizerConfig(
        ModuleKMeansPalettizerConfig globalConfig,
        Map<String, ModuleKMeansPalettizerConfig> moduleTypeConfigs,
        SequencedMap<String, ModuleKMeansPalettizerConfig> moduleNameConfigs) implements SpecResolver {

    public KMeansPalettizerConfig {
        moduleTypeConfigs = Rules.copy(moduleTypeConfigs);
        moduleNameConfigs = Rules.copy(moduleNameConfigs);
        for (String pattern : moduleNameConfigs.keySet()) {
            Rules.patternProblem(pattern).ifPresent(p -> {
                throw new SpecException(ConfigPath.of("module_name_configs", pattern).describe(p));
            });
        }
    }

    /** The seed's default: 4-bit per-tensor on every module's {@code weight} and {@code in_proj_weight}. */
    public static KMeansPalettizerConfig defaults() {
        return of(ModuleKMeansPalettizerConfig.defaults());
    }

    /** {@code global} for every module, no type or name rules. */
    public static KMeansPalettizerConfig of(ModuleKMeansPalettizerConfig global) {
        return new KMeansPalettizerConfig(global, null, null);
    }

    /** {@code spec} on every module's {@code weight} and {@code in_proj_weight}, the other settings default. */
    public static KMeansPalettizerConfig of(PalettizationSpec spec) {
        return of(ModuleKMeansPalettizerConfig.of(spec));
    }

    public KMeansPalettizerConfig withGlobalConfig(ModuleKMeansPalettizerConfig global) {
        return new KMeansPalettizerConfig(global, moduleTypeConfigs, moduleNameConfigs);
    }

    /** Adds or replaces one module type entry (null: leave modules of that type alone). */
    public KMeansPalettizerConfig withModuleTypeConfig(String moduleType, ModuleKMeansPalettizerConfig module) {
        return new KMeansPalettizerConfig(globalConfig,
                ModuleKMeansPalettizerConfig.with(moduleTypeConfigs, moduleType, module), moduleNameConfigs);
    }

    /** Adds (last in priority) or replaces one module name entry (null: leave matching modules alone). */
    public KMeansPalettizerConfig withModuleNameConfig(String moduleName, ModuleKMeansPalettizerConfig module) {
        return new KMeansPalettizerConfig(globalConfig, moduleTypeConfigs,
                ModuleKMeansPalettizerConfig.with(moduleNameConfigs, moduleName, module));
    }

    @Override
    public WeightDecision resolve(WeightSite site) {
        ConfigPath at;
        ModuleKMeansPalettizerConfig module;
        Optional<String> named = Rules.byName(moduleNameConfigs, site.moduleName());
        Optional<String> typed = named.isPresent() ? Optional.empty() : Rules.byType(moduleTypeConfigs, site.moduleType());
        if (named.isPresent()) {
            at = ConfigPath.of("module_name_configs", named.get());
            module = moduleNameConfigs.get(named.get());
        } else if (typed.isPresent()) {
            at = ConfigPath.of("module_type_configs", typed.get());
            module = moduleTypeConfigs.get(typed.get());
        } else if (globalConfig == null) {
            // Absent or null alike: a rule-only document has no global config, so do not quote one.
            return WeightDecision.leave("no module_name_configs or module_type_configs rule matches module '"
                    + site.moduleName() + "' (type " + site.moduleType() + "), and there is no global_config");
        } else {
            at = ConfigPath.of("global_config");
            module = globalConfig;
        }
        return module == null ? WeightDecision.leave(at.describe("null")) : module.decide(site, at);
    }

    /** Equal when every field is, with module_name_configs entries in the same order (it decides among regexes). */
    @Override
    public boolean equals(Object o) {
        return o instanceof KMeansPalettizerConfig c && Objects.equals(globalConfig, c.globalConfig)
                && moduleTypeConfigs.equals(c.moduleTypeConfigs) && Rules.sameInOrder(moduleNameConfigs, c.moduleNameConfigs);
    }

    @Override
    public int hashCode() {
        return Objects.hash(globalConfig, moduleTypeConfigs, moduleNameConfigs);
    }
}
