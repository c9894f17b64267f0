package dev.palettizer.io;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import dev.palettizer.model.WeightSite;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Describes each initializer of a graph in the configuration's terms (module, op, state) and
 * decides its engine orientation. The rules, in order:
 * <ul>
 *   <li><b>Op</b>: the first node of the top-level graph (in node order) that takes the initializer
 *       as an input gives op name and op type; none leaves both empty.</li>
 *   <li><b>Module and state</b>: a PyTorch state name (dotted identifiers such as
 *       {@code encoder.layer.0.attention.self.query.bias}) splits at its last dot into module and
 *       state. Otherwise (e.g. {@code onnx::MatMul_787}) the module is the consuming node's scope
 *       path without its last part ({@code /encoder/layer.0/attention/self/query/MatMul} gives
 *       {@code encoder.layer.0.attention.self.query}) and the state is the input's role: "weight"
 *       for MatMul A/B, Gemm A/B, Conv/ConvTranspose W, Gather data, LayerNormalization scale;
 *       "bias" for Gemm C, Conv B, LayerNormalization B; empty otherwise.</li>
 *   <li><b>Module type</b> from the op: MatMul/Gemm give Linear, Conv ConvNd and ConvTranspose
 *       ConvTransposeNd (N = rank - 2), Gather on axis 0 Embedding, LayerNormalization LayerNorm;
 *       a module without one of these borrows the type another initializer of the same module got
 *       (a Linear's bias, consumed by Add, is typed by its weight's MatMul).</li>
 *   <li><b>Orientation</b>: 2-D MatMul B, Gemm B without transB and Gemm A with transA are stored
 *       [in, out] and seen transposed; see {@link OnnxInitializer}.</li>
 * </ul>
 */
final class OnnxSites {
    private static final Pattern STATE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z0-9_]+)+");

    private OnnxSites() {}

    record Placement(WeightSite site, boolean transposed) {}

    private record Use(NodeProto node, int input) {}

    static Map<String, Placement> describe(GraphProto graph, Map<String, long[]> shapes) {
        Map<String, Use> firstUse = new HashMap<>();
        for (NodeProto node : graph.getNodeList()) {
            for (int i = 0; i < node.getInputCount(); i++) {
                String in = node.getInput(i);
                if (shapes.containsKey(in)) {
                    firstUse.putIfAbsent(in, new Use(node, i));
                }
            }
        }
        Map<String, Placement> out = new LinkedHashMap<>();
        Map<String, String> moduleTypes = new HashMap<>();
        shapes.forEach((name, shape) -> {
            Placement p = place(name, shape, firstUse.get(name));
            out.put(name, p);
            if (!p.site().moduleType().isEmpty() && !p.site().moduleName().isEmpty()) {
                moduleTypes.putIfAbsent(p.site().moduleName(), p.site().moduleType());
            }
        });
        out.replaceAll((name, p) -> {
            WeightSite s = p.site();
            String borrowed = moduleTypes.get(s.moduleName());
            if (!s.moduleType().isEmpty() || borrowed == null) {
                return p;
            }
            return new Placement(new WeightSite(s.tensorName(), s.moduleName(), borrowed, s.opName(), s.opType(),
                    s.stateName(), s.shape()), p.transposed());
        });
        return out;
    }

    private static Placement place(String name, long[] shape, Use use) {
        String opType = use == null ? "" : use.node().getOpType();
        String opName = use == null ? "" : use.node().getName();
        int input = use == null ? -1 : use.input();
        String module;
        String state;
        if (STATE_NAME.matcher(name).matches()) {
            int dot = name.lastIndexOf('.');
            module = name.substring(0, dot);
            state = name.substring(dot + 1);
        } else {
            module = scopeOf(opName);
            state = role(opType, input);
        }
        String moduleType = use == null ? "" : moduleType(use.node(), input, shape.length);
        WeightSite site = new WeightSite(name, module, moduleType, opName, opType, state, shape);
        return new Placement(site, shape.length == 2 && use != null && storedInOut(use.node(), input));
    }

    /** {@code /a/b.0/c/MatMul} -> {@code a.b.0.c}; names that are not scope paths give no module. */
    private static String scopeOf(String nodeName) {
        if (!nodeName.startsWith("/")) {
            return "";
        }
        int last = nodeName.lastIndexOf('/');
        return last <= 0 ? "" : nodeName.substring(1, last).replace('/', '.');
    }

    private static String role(String opType, int input) {
        return switch (opType) {
            case "MatMul" -> input <= 1 ? "weight" : "";
            case "Gemm" -> input <= 1 ? "weight" : input == 2 ? "bias" : "";
            case "Conv", "ConvTranspose", "LayerNormalization" -> input == 1 ? "weight" : input == 2 ? "bias" : "";
            case "Gather" -> input == 0 ? "weight" : "";
            default -> "";
        };
    }

    private static String moduleType(NodeProto node, int input, int rank) {
        return switch (node.getOpType()) {
            case "MatMul", "Gemm" -> "Linear";
            case "Conv" -> input >= 1 && rank >= 3 ? "Conv" + (rank - 2) + "d" : "";
            case "ConvTranspose" -> input >= 1 && rank >= 3 ? "ConvTranspose" + (rank - 2) + "d" : "";
            case "Gather" -> input == 0 && intAttribute(node, "axis", 0) == 0 ? "Embedding" : "";
            case "LayerNormalization" -> "LayerNorm";
            default -> "";
        };
    }

    /** Whether this input holds a matrix as [in, out], the transpose of PyTorch's Linear layout. */
    private static boolean storedInOut(NodeProto node, int input) {
        return switch (node.getOpType()) {
            case "MatMul" -> input == 1;
            case "Gemm" -> (input == 1 && intAttribute(node, "transB", 0) == 0)
                    || (input == 0 && intAttribute(node, "transA", 0) == 1);
            default -> false;
        };
    }

    private static long intAttribute(NodeProto node, String name, long otherwise) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getI();
            }
        }
        return otherwise;
    }
}
