package dev.palettizer.io;

import dev.palettizer.model.PalettizedTensor;
import java.util.List;

/**
 * The content of a compressed ONNX model: its palettized weights, each with what expands it in
 * the graph, and the names of the initializers stored as they are.
 */
public record OnnxCompressedModel(List<Weight> palettized, List<String> plainTensors) {
    public OnnxCompressedModel {
        palettized = List.copyOf(palettized);
        plainTensors = List.copyOf(plainTensors);
    }

    /**
     * One palettized weight: the tensor in the engine's orientation, whether the graph transposes
     * it back, and the nodes and initializers of its expansion.
     */
    public record Weight(PalettizedTensor tensor, boolean transposed, List<String> nodes, List<String> initializers) {
        public Weight {
            nodes = List.copyOf(nodes);
            initializers = List.copyOf(initializers);
        }

        /** The shape of the weight in the graph. */
        public long[] storedShape() {
            long[] s = tensor.shape();
            return transposed ? new long[] {s[1], s[0]} : s;
        }
    }
}
