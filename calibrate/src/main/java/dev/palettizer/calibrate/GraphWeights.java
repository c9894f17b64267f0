package dev.palettizer.calibrate;

import ai.onnx.proto.OnnxMl;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The float initializers of an ONNX graph and, for each, whether calibration can measure its sensitivity:
 * which nodes consume it and which activation each use reads. Only the main graph is searched (weights of
 * If/Loop subgraphs are not palettized either).
 */
final class GraphWeights {
    private static final Set<Integer> FLOAT_TYPES = Set.of(
            OnnxMl.TensorProto.DataType.FLOAT_VALUE, OnnxMl.TensorProto.DataType.FLOAT16_VALUE,
            OnnxMl.TensorProto.DataType.BFLOAT16_VALUE);

    /** One float initializer: covered by its uses, or not, and why. */
    sealed interface Weight {
        String name();

        long[] shape();
    }

    record Covered(String name, long[] shape, List<WeightUse> uses) implements Weight {}

    record Uncovered(String name, long[] shape, String reason) implements Weight {}

    private GraphWeights() {}

    /** Every float initializer in graph order, covered or with the reason it is not. */
    static List<Weight> of(OnnxMl.GraphProto graph) {
        Map<String, long[]> initializers = new LinkedHashMap<>();
        Map<String, long[]> floats = new LinkedHashMap<>();
        for (OnnxMl.TensorProto t : graph.getInitializerList()) {
            long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
            initializers.put(t.getName(), dims);
            if (FLOAT_TYPES.contains(t.getDataType())) {
                floats.put(t.getName(), dims);
            }
        }
        Map<String, List<OnnxMl.NodeProto>> consumers = new LinkedHashMap<>();
        for (OnnxMl.NodeProto node : graph.getNodeList()) {
            for (String input : node.getInputList()) {
                if (floats.containsKey(input)) {
                    List<OnnxMl.NodeProto> list = consumers.computeIfAbsent(input, k -> new ArrayList<>());
                    if (!list.contains(node)) {
                        list.add(node);
                    }
                }
            }
        }
        List<Weight> out = new ArrayList<>();
        for (Map.Entry<String, long[]> e : floats.entrySet()) {
            out.add(weight(e.getKey(), e.getValue(), consumers.getOrDefault(e.getKey(), List.of()), initializers));
        }
        return out;
    }

    private static Weight weight(String name, long[] shape, List<OnnxMl.NodeProto> nodes, Map<String, long[]> initializers) {
        if (nodes.isEmpty()) {
            return new Uncovered(name, shape, "no node of the main graph consumes it");
        }
        List<WeightUse> uses = new ArrayList<>();
        for (OnnxMl.NodeProto node : nodes) {
            WeightUse u;
            switch (use(name, shape, node, initializers)) {
                case Use found -> u = found.use();
                case NoUse none -> {
                    return new Uncovered(name, shape, none.reason());
                }
            }
            if (!uses.isEmpty() && !uses.getFirst().sameFamily(u)) {
                return new Uncovered(name, shape, "used as an embedding table by one node and as a linear weight by"
                        + " another (" + uses.getFirst().node() + ", " + u.node() + "): their statistics do not add up");
            }
            uses.add(u);
        }
        return new Covered(name, shape, List.copyOf(uses));
    }

    private sealed interface UseOrNot {}

    private record Use(WeightUse use) implements UseOrNot {}

    private record NoUse(String reason) implements UseOrNot {}

    /** The use of weight {@code name} by {@code node}, or why it has none calibration can measure. */
    private static UseOrNot use(String name, long[] shape, OnnxMl.NodeProto node, Map<String, long[]> initializers) {
        String where = node.getOpType() + " '" + node.getName() + "'";
        List<String> in = node.getInputList();
        UseOrNot use = switch (node.getOpType()) {
            case "MatMul" -> {
                if (shape.length != 2) {
                    yield new NoUse("a " + shape.length + "-D MatMul operand (only 2-D weights are covered)");
                }
                yield in.get(1).equals(name)
                        ? new Use(new WeightUse.Linear(where, in.get(0), -1, 0))
                        : new Use(new WeightUse.Linear(where, in.get(1), -2, 1));
            }
            case "Gemm" -> {
                boolean transA = intAttribute(node, "transA", 0) != 0;
                boolean transB = intAttribute(node, "transB", 0) != 0;
                if (in.size() > 2 && in.get(2).equals(name) && !in.get(0).equals(name) && !in.get(1).equals(name)) {
                    yield new NoUse("the bias C of " + where + " (a bias adds to the output and has no input channel)");
                }
                yield in.get(1).equals(name)
                        ? new Use(new WeightUse.Linear(where, in.get(0), transA ? -2 : -1, transB ? 1 : 0))
                        : new Use(new WeightUse.Linear(where, in.get(1), transB ? -1 : -2, transA ? 0 : 1));
            }
            case "Conv" -> {
                if (in.size() < 2 || !in.get(1).equals(name) || in.get(0).equals(name)) {
                    yield new NoUse("the bias of " + where + " (a bias adds to the output and has no input channel)");
                }
                yield new Use(new WeightUse.Conv(where, in.get(0), intAttribute(node, "group", 1)));
            }
            case "Gather" -> {
                if (!in.get(0).equals(name) || in.get(1).equals(name)) {
                    yield new NoUse("the indices of " + where);
                }
                long axis = intAttribute(node, "axis", 0);
                if (axis != 0 && axis != -shape.length) {
                    yield new NoUse("gathered on axis " + axis + " by " + where + " (only axis 0, an embedding table, is covered)");
                }
                yield new Use(new WeightUse.Embedding(where, in.get(1)));
            }
            default -> new NoUse("consumed by " + where + ", whose effect on the output calibration does not measure"
                    + " (covered: MatMul, Gemm A/B, Conv W, Gather data on axis 0)");
        };
        if (use instanceof Use(WeightUse u) && initializers.containsKey(u.activation())) {
            return new NoUse("the other operand of " + where + " ('" + u.activation() + "') is an initializer too,"
                    + " not an activation");
        }
        return use;
    }

    private static long intAttribute(OnnxMl.NodeProto node, String name, long fallback) {
        return node.getAttributeList().stream().filter(a -> a.getName().equals(name)).findFirst()
                .map(OnnxMl.AttributeProto::getI).orElse(fallback);
    }

    /** The activations the covered weights read, each once, in graph order of first use. */
    static List<String> activations(List<Weight> weights) {
        return weights.stream().filter(w -> w instanceof Covered).flatMap(w -> ((Covered) w).uses().stream())
                .map(WeightUse::activation).distinct().toList();
    }

    static String describe(long[] shape) {
        return Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", ", "[", "]"));
    }
}
