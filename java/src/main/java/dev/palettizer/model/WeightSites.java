package dev.palettizer.model;

import java.util.Locale;

/**
 * The site of a tensor known only by name and shape (safetensors files, a JVM trainer's arrays),
 * following PyTorch's naming: {@code a.b.weight} is state {@code weight} of module {@code a.b}
 * (a name without a dot is a state of the root module, ""). The module type comes from the rank,
 * as PyTorch lays out its weights: 2-D {@code Linear} ([out, in]), 3-D to 5-D {@code Conv1d} to
 * {@code Conv3d} ([out, in, kernel...]); other ranks have no type. The op is taken to be the module's
 * own, with PyTorch's functional name as its type ({@code linear}, {@code conv2d}), since such files
 * carry no graph.
 */
public final class WeightSites {
    private WeightSites() {}

    public static WeightSite forTensor(String name, long[] shape) {
        int dot = name.lastIndexOf('.');
        String module = dot < 0 ? "" : name.substring(0, dot);
        String state = name.substring(dot + 1);
        String type = moduleType(shape.length);
        String opName = type.isEmpty() ? "" : module;
        return new WeightSite(name, module, type, opName, type.toLowerCase(Locale.ROOT), state, shape);
    }

    /** The module type a weight of this rank has in PyTorch's layouts, or "" when the rank says nothing. */
    private static String moduleType(int rank) {
        return switch (rank) {
            case 2 -> "Linear";
            case 3, 4, 5 -> "Conv" + (rank - 2) + "d";
            default -> "";
        };
    }
}
