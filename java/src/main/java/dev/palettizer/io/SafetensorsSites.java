package dev.palettizer.io;

import dev.palettizer.model.WeightSite;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Where each tensor of a safetensors file sits, for the configuration hierarchy. A safetensors file
 * holds only names and shapes, so modules and ops are read from PyTorch's naming convention:
 *
 * <ul>
 *   <li>{@code a.b.c.weight}: module {@code a.b.c}, state {@code weight} (the part after the last dot);
 *       a name without a dot is a state of the root module {@code ""}.
 *   <li>The module's type, and the op that consumes its states, follow from its own {@code weight}:
 *       2-D {@code Linear}/{@code linear} ({@code Embedding}/{@code embedding}
 *       when the module name contains "embed"), 3-D {@code Conv1d}/{@code conv1d}, 4-D
 *       {@code Conv2d}/{@code conv2d}, 5-D {@code Conv3d}/{@code conv3d}; a module with an
 *       {@code in_proj_weight} is {@code MultiheadAttention}/{@code multi_head_attention}.
 *   <li>Every state of such a module (weight, bias, ...) is an input of that op, named like the
 *       module. Other modules (1-D weights such as norms, or no weight) have type {@code ""} and no op,
 *       so only module-level settings ({@code module_state_spec}) reach their tensors.
 * </ul>
 */
public final class SafetensorsSites {
    /** A module type and the type of the op its states feed; empty strings when unknown. */
    private record Kind(String moduleType, String opType) {}

    private static final Kind UNKNOWN = new Kind("", "");
    private static final Kind LINEAR = new Kind("Linear", "linear");
    private static final Kind EMBEDDING = new Kind("Embedding", "embedding");
    private static final Kind ATTENTION = new Kind("MultiheadAttention", "multi_head_attention");
    private static final Map<Integer, Kind> CONV_BY_RANK = Map.of(
            3, new Kind("Conv1d", "conv1d"), 4, new Kind("Conv2d", "conv2d"), 5, new Kind("Conv3d", "conv3d"));

    private SafetensorsSites() {}

    /** The sites of a file's tensors, by tensor name, in file order. */
    public static SequencedMap<String, WeightSite> of(List<SafetensorsFile.Entry> tensors) {
        SequencedMap<String, long[]> shapes = new LinkedHashMap<>();
        tensors.forEach(e -> shapes.put(e.name(), e.shape()));
        return of(shapes);
    }

    /** The sites of tensors given by name and shape, in the given order. */
    public static SequencedMap<String, WeightSite> of(SequencedMap<String, long[]> shapes) {
        Map<String, Map<String, long[]>> modules = new HashMap<>();
        shapes.forEach((name, shape) -> modules.computeIfAbsent(moduleOf(name), m -> new HashMap<>())
                .put(stateOf(name), shape));
        SequencedMap<String, WeightSite> sites = new LinkedHashMap<>();
        shapes.forEach((name, shape) -> {
            String module = moduleOf(name);
            Kind kind = kindOf(module, modules.get(module));
            String opName = kind.opType().isEmpty() ? "" : module;
            sites.put(name, new WeightSite(name, module, kind.moduleType(), opName, kind.opType(), stateOf(name), shape));
        });
        return sites;
    }

    static String moduleOf(String tensorName) {
        int dot = tensorName.lastIndexOf('.');
        return dot < 0 ? "" : tensorName.substring(0, dot);
    }

    static String stateOf(String tensorName) {
        return tensorName.substring(tensorName.lastIndexOf('.') + 1);
    }

    /** The module's type from its states' names and shapes. */
    private static Kind kindOf(String module, Map<String, long[]> states) {
        if (states.containsKey("in_proj_weight")) {
            return ATTENTION;
        }
        long[] weight = states.get("weight");
        if (weight == null) {
            return UNKNOWN;
        }
        if (weight.length == 2) {
            return module.toLowerCase(Locale.ROOT).contains("embed") ? EMBEDDING : LINEAR;
        }
        return CONV_BY_RANK.getOrDefault(weight.length, UNKNOWN);
    }
}
