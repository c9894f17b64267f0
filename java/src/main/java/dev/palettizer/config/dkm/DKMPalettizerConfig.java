package dev.palettizer.config.dkm;

import dev.palettizer.config.ConfigPath;
import dev.palettizer.config.Rules;
import dev.palettizer.model.Shapes;
import dev.palettizer.model.WeightSite;
import dev.palettizer.spec.SpecException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.Set;

/**
 * Which weights of a model DKMPalettizer palettizes during training, and how (seed 004's
 * {@code DKMPalettizerConfig}). Immutable; load and save it with {@link DkmConfigFiles}; ask it per
 * weight with {@link #resolve}.
 *
 * <p><b>Which tensors.</b> DKM considers the {@code weight} of {@code Linear}, {@code Conv1d},
 * {@code Conv2d}, {@code Conv3d} and {@code Embedding} modules and the {@code in_proj_weight} (packed
 * q/k/v) of {@code MultiheadAttention} modules: the tensors a layer's op multiplies by, whose layout the
 * DKM engine knows. Biases, norms, buffers and modules of other or unknown types are left alone, with
 * a rule saying so.
 *
 * <p><b>Precedence</b>, as for the k-means config: the first hit decides alone (configs are never
 * merged): the {@code module_name_configs} entry whose key equals the module name, else the first, in
 * document order, whose regex matches the whole module name; else the {@code module_type_configs} entry
 * of the module's type (exact, else a qualified key such as {@code torch.nn.modules.linear.Linear});
 * else {@code global_config}. A null module config leaves the module's weights alone.
 *
 * <p><b>weight_threshold.</b> A chosen module config palettizes a weight only when its element count
 * exceeds the config's {@code weight_threshold}. A module type may map to a list of module configs
 * instead (seed 004): the one with the largest {@code weight_threshold} that the element count exceeds
 * applies, and a weight exceeding none is left alone. The thresholds of a list must differ, so there
 * are no ties; the list's order is kept for saving and for naming an entry ({@code Conv2d[1]}), and does
 * not affect the choice.
 *
 * @param globalConfig      for modules no other rule names; null palettizes nothing by default
 * @param moduleTypeConfigs per module type ("Linear", "Conv2d", ...): one config (a list of one), a list
 *                          of configs told apart by weight_threshold, or null to leave the type alone
 * @param moduleNameConfigs per module name, exact or regex over the whole name, in this order of
 *                          priority; a null value leaves matching modules alone
 */
public record DKMPalettizerConfig(
        ModuleDKMPalettizerConfig globalConfig,
        Map<String, List<ModuleDKMPalettizerConfig>> moduleTypeConfigs,
        SequencedMap<String, ModuleDKMPalettizerConfig> moduleNameConfigs) {

    /** The module types whose {@code weight} DKM palettizes. */
    public static final Set<String> WEIGHT_MODULE_TYPES = Set.of("Linear", "Conv1d", "Conv2d", "Conv3d", "Embedding");
    /** The module type whose {@code in_proj_weight} DKM palettizes. */
    public static final String ATTENTION_MODULE_TYPE = "MultiheadAttention";

    public DKMPalettizerConfig {
        Map<String, List<ModuleDKMPalettizerConfig>> types = new LinkedHashMap<>();
        Rules.copy(moduleTypeConfigs).forEach((type, list) ->
                types.put(type, list == null ? null : checkedList(ConfigPath.of("module_type_configs", type), list)));
        moduleTypeConfigs = Rules.copy(types);
        moduleNameConfigs = Rules.copy(moduleNameConfigs);
        for (String pattern : moduleNameConfigs.keySet()) {
            Rules.patternProblem(pattern).ifPresent(p -> {
                throw new SpecException(ConfigPath.of("module_name_configs", pattern).describe(p));
            });
        }
    }

    /** A list of module configs for one type: not empty, no nulls, distinct weight_thresholds. */
    private static List<ModuleDKMPalettizerConfig> checkedList(ConfigPath at, List<ModuleDKMPalettizerConfig> list) {
        if (list.isEmpty()) {
            throw new SpecException(at.describe("an empty list; give one module config or more, or null to leave"
                    + " modules of this type alone"));
        }
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == null) {
                throw new SpecException(at.index(i).describe("null inside a list of module configs; to leave modules"
                        + " of this type alone, make the whole entry null"));
            }
            for (int j = 0; j < i; j++) {
                if (list.get(j).weightThreshold() == list.get(i).weightThreshold()) {
                    throw new SpecException(at.index(i).resolve("weight_threshold").describe(list.get(i).weightThreshold()
                            + " is also the weight_threshold of " + at.index(j) + "; the configs of a list need"
                            + " distinct weight_thresholds, which pick among them by the weight's element count"));
                }
            }
        }
        return List.copyOf(list);
    }

    /** The seed's default: every parameter at its default for every module, no type or name rules. */
    public static DKMPalettizerConfig defaults() {
        return of(ModuleDKMPalettizerConfig.defaults());
    }

    /** {@code global} for every module, no type or name rules. */
    public static DKMPalettizerConfig of(ModuleDKMPalettizerConfig global) {
        return new DKMPalettizerConfig(global, null, null);
    }

    /** A copy with another global config (null: palettize only what the type and name rules name). */
    public DKMPalettizerConfig setGlobal(ModuleDKMPalettizerConfig global) {
        return new DKMPalettizerConfig(global, moduleTypeConfigs, moduleNameConfigs);
    }

    /** A copy with one module type entry added or replaced; null leaves modules of that type alone. */
    public DKMPalettizerConfig setModuleType(String moduleType, ModuleDKMPalettizerConfig module) {
        return setModuleTypeByThreshold(moduleType, module == null ? null : List.of(module));
    }

    /**
     * A copy with one module type entry added or replaced by a list of configs told apart by
     * weight_threshold (see the class comment); null leaves modules of that type alone.
     */
    public DKMPalettizerConfig setModuleTypeByThreshold(String moduleType, List<ModuleDKMPalettizerConfig> modules) {
        return new DKMPalettizerConfig(globalConfig, with(moduleTypeConfigs, moduleType, modules), moduleNameConfigs);
    }

    /** A copy with one module name entry added (last in priority) or replaced; null leaves matching modules alone. */
    public DKMPalettizerConfig setModuleName(String moduleName, ModuleDKMPalettizerConfig module) {
        return new DKMPalettizerConfig(globalConfig, moduleTypeConfigs, with(moduleNameConfigs, moduleName, module));
    }

    private static <V> SequencedMap<String, V> with(Map<String, V> map, String key, V value) {
        SequencedMap<String, V> next = new LinkedHashMap<>(map);
        next.put(Objects.requireNonNull(key, "key"), value);
        return next;
    }

    /**
     * What to do with one weight: palettize it with the spec the deciding module config gives for it
     * (n_bits resolved for the module type, {@code seed} in the spec), or leave it alone; both say why.
     * The element count is the product of {@code site}'s shape.
     *
     * @param site where the weight sits (module name and type, state name, shape)
     * @param seed seeds the weight's k-means++ and Gumbel noise (the caller derives one per weight if it wants)
     */
    public DkmResolution resolve(WeightSite site, long seed) {
        Optional<String> unsupported = unsupported(site);
        if (unsupported.isPresent()) {
            return new DkmResolution.Leave(unsupported.get());
        }
        long elements = Shapes.elementCount(site.shape());
        Optional<String> named = Rules.byName(moduleNameConfigs, site.moduleName());
        if (named.isPresent()) {
            return decide(ConfigPath.of("module_name_configs", named.get()), moduleNameConfigs.get(named.get()),
                    site, elements, seed);
        }
        Optional<String> typed = Rules.byType(moduleTypeConfigs, site.moduleType());
        if (typed.isPresent()) {
            ConfigPath at = ConfigPath.of("module_type_configs", typed.get());
            List<ModuleDKMPalettizerConfig> list = moduleTypeConfigs.get(typed.get());
            if (list == null) {
                return new DkmResolution.Leave(at.describe("null"));
            }
            if (list.size() == 1) {
                return decide(at, list.getFirst(), site, elements, seed);
            }
            return byThreshold(at, list, site, elements, seed);
        }
        if (globalConfig == null) {
            // Absent or null alike: a rule-only document has no global config, so do not quote one.
            return new DkmResolution.Leave("no module_name_configs or module_type_configs rule matches module '"
                    + site.moduleName() + "' (type " + site.moduleType() + "), and there is no global_config");
        }
        return decide(ConfigPath.of("global_config"), globalConfig, site, elements, seed);
    }

    /** Why DKM does not consider the weight at all, or empty when it does. */
    private static Optional<String> unsupported(WeightSite site) {
        String type = site.moduleType();
        String state = site.stateName();
        if ((state.equals("weight") && WEIGHT_MODULE_TYPES.contains(type))
                || (state.equals("in_proj_weight") && type.equals(ATTENTION_MODULE_TYPE))) {
            return Optional.empty();
        }
        return Optional.of("not a DKM weight: '" + state + "' of " + (type.isEmpty() ? "a module of no known type"
                : "a " + type + " module") + " (DKM palettizes the weight of Linear, Conv1d, Conv2d, Conv3d and"
                + " Embedding modules and the in_proj_weight of MultiheadAttention)");
    }

    private static DkmResolution decide(ConfigPath at, ModuleDKMPalettizerConfig module, WeightSite site, long elements,
                                        long seed) {
        if (module == null) {
            return new DkmResolution.Leave(at.describe("null"));
        }
        if (elements <= module.weightThreshold()) {
            return new DkmResolution.Leave(at.describe(elements + " elements do not exceed weight_threshold "
                    + module.weightThreshold()));
        }
        return palettize(at, module, site, seed);
    }

    /** The list entry with the largest weight_threshold below the element count (thresholds are distinct). */
    private static DkmResolution byThreshold(ConfigPath at, List<ModuleDKMPalettizerConfig> list, WeightSite site,
                                             long elements, long seed) {
        int best = -1;
        long smallest = Long.MAX_VALUE;
        for (int i = 0; i < list.size(); i++) {
            long threshold = list.get(i).weightThreshold();
            smallest = Math.min(smallest, threshold);
            if (elements > threshold && (best < 0 || threshold > list.get(best).weightThreshold())) {
                best = i;
            }
        }
        if (best < 0) {
            return new DkmResolution.Leave(at.describe(elements + " elements exceed no weight_threshold of the list"
                    + " (the smallest is " + smallest + ")"));
        }
        return palettize(at.index(best), list.get(best), site, seed);
    }

    private static DkmResolution palettize(ConfigPath at, ModuleDKMPalettizerConfig module, WeightSite site, long seed) {
        return new DkmResolution.Palettize(module.spec(site.moduleType(), seed), module.milestone(),
                module.palettMaxMem(), at.toString());
    }

    /** Equal when every field is, with module_name_configs entries in the same order (it decides among regexes). */
    @Override
    public boolean equals(Object o) {
        return o instanceof DKMPalettizerConfig c && Objects.equals(globalConfig, c.globalConfig)
                && moduleTypeConfigs.equals(c.moduleTypeConfigs) && Rules.sameInOrder(moduleNameConfigs, c.moduleNameConfigs);
    }

    @Override
    public int hashCode() {
        return Objects.hash(globalConfig, moduleTypeConfigs, moduleNameConfigs);
    }
}
