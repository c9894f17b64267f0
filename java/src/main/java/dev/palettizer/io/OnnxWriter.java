package dev.palettizer.io;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.palettizer.io.OnnxSerializer.Entry;
import dev.palettizer.io.OnnxSerializer.Streamed;
import dev.palettizer.io.OnnxSerializer.Whole;
import dev.palettizer.io.SafetensorsWriter.Payload;
import dev.palettizer.model.PalettizedTensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites an open ONNX model into a new file: chosen initializers replaced by their dense
 * reconstruction, by a palettized expansion ({@link OnnxCompressedFormat}), or (decompressing)
 * palettized weights restored to dense initializers; every other initializer is streamed from the
 * input's mapping. Initializers keep their order; expansion nodes go first in the graph. The output
 * uses external data when the input did or when it would not fit one protobuf. The model must
 * stay open until {@link #write} returns.
 */
public final class OnnxWriter {
    private final OnnxModel source;
    private final Map<String, Payload> dense = new HashMap<>();
    private final Map<String, PalettizedTensor> compressed = new HashMap<>();
    /** Restored weights, keyed by the first of their initializers, where the dense weight takes their place. */
    private final Map<String, OnnxCompressedModel.Weight> restoreAt = new HashMap<>();
    private final Map<String, Payload> restoredData = new HashMap<>();
    private final Set<String> dropped = new HashSet<>();

    public OnnxWriter(OnnxModel source) {
        this.source = source;
    }

    /** Stores {@code t} with new values: {@code storedBytes} in its type and stored order. */
    public OnnxWriter replaceDense(OnnxInitializer t, Payload storedBytes) {
        long needed = t.type().rawBytes(t.elementCount());
        if (storedBytes.byteSize() != needed) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': payload holds " + storedBytes.byteSize()
                    + " bytes but " + t + " needs " + needed);
        }
        dense.put(known(t), storedBytes);
        return this;
    }

    /** Stores {@code t} palettized, expanded in the graph; {@code p} is in the engine's orientation. */
    public OnnxWriter replaceCompressed(OnnxInitializer t, PalettizedTensor p) {
        if (!p.name().equals(t.name()) || !Arrays.equals(p.shape(), t.engineShape())) {
            throw new IllegalArgumentException("palettized tensor '" + p.name() + "' " + Arrays.toString(p.shape())
                    + " does not match initializer " + t + " (engine shape " + Arrays.toString(t.engineShape()) + ")");
        }
        OnnxCompressedFormat.checkWritable(source, t, p.spec());
        compressed.put(known(t), p);
        return this;
    }

    /** Replaces palettized weight {@code w}'s expansion by a dense initializer holding {@code storedBytes}. */
    public OnnxWriter restore(OnnxCompressedModel.Weight w, Payload storedBytes) {
        restoreAt.put(w.initializers().getFirst(), w);
        restoredData.put(w.tensor().name(), storedBytes);
        dropped.addAll(w.initializers());
        return this;
    }

    private String known(OnnxInitializer t) {
        if (source.initializer(t.name()).orElse(null) != t) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' is not an initializer of " + source.path());
        }
        return t.name();
    }

    /**
     * Writes the model atomically (and its data file, for external data).
     *
     * @throws IllegalArgumentException if {@code out} or its data file is the input or one of its data files
     * @throws IOException if writing fails; {@code out} is then unchanged and no temporary file remains
     */
    public void write(Path out) throws IOException {
        ModelProto src = source.proto();
        List<Entry> initializers = new ArrayList<>();
        List<NodeProto> added = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (OnnxInitializer t : source.initializers()) {
            String name = t.name();
            if (dense.containsKey(name)) {
                initializers.add(new Streamed(OnnxSerializer.header(t.proto()), dense.get(name)));
            } else if (compressed.containsKey(name)) {
                PalettizedTensor p = compressed.get(name);
                OnnxExpansion.Expansion e = OnnxExpansion.of(p, t, source.opset(), source.irVersion());
                added.addAll(e.nodes());
                initializers.addAll(e.initializers());
                metadata.putAll(OnnxCompressedFormat.metadataFor(p, t.transposed(), e.nodes()));
            } else if (restoreAt.containsKey(name)) {
                initializers.add(restoredEntry(restoreAt.get(name)));
            } else if (!dropped.contains(name)) {
                initializers.add(t.bytes() != null
                        ? new Streamed(OnnxSerializer.header(t.proto()), Payload.of(t.bytes()))
                        : new Whole(t.proto()));
            }
        }
        checkNewNames(src.getGraph(), added, initializers);
        ModelProto skeleton = skeleton(src, added, metadata);
        boolean external = source.usesExternalData() || OnnxSerializer.tooLargeToEmbed(skeleton, initializers);
        List<Path> inputs = new ArrayList<>(source.externalFiles());
        inputs.add(source.path());
        OnnxSerializer.write(skeleton, initializers, out, external, inputs);
    }

    private Entry restoredEntry(OnnxCompressedModel.Weight w) {
        PalettizedTensor t = w.tensor();
        TensorProto.Builder header = TensorProto.newBuilder().setName(t.name())
                .setDataType(OnnxType.of(t.originalDType()).code());
        Arrays.stream(w.storedShape()).forEach(header::addDims);
        return new Streamed(header.build(), restoredData.get(t.name()));
    }

    /** The model without initializers: expansion nodes first, restored expansions removed, metadata updated. */
    private ModelProto skeleton(ModelProto src, List<NodeProto> added, Map<String, String> addedMetadata) {
        GraphProto g = src.getGraph();
        Set<String> removedNodes = removedNodes();
        List<NodeProto> nodes = new ArrayList<>(added);
        g.getNodeList().stream().filter(n -> !removedNodes.contains(n.getName())).forEach(nodes::add);
        GraphProto.Builder graph = g.toBuilder().clearInitializer().clearNode().addAllNode(nodes)
                // A weight the graph now computes can no longer be an (overridable) graph input.
                .clearInput().addAllInput(g.getInputList().stream().filter(i -> !compressed.containsKey(i.getName())).toList());

        Set<String> removedKeys = new HashSet<>();
        restoreAt.values().forEach(w -> {
            removedKeys.add(CompressedFormat.TENSOR_KEY_PREFIX + w.tensor().name());
            removedKeys.add(OnnxCompressedFormat.ONNX_KEY_PREFIX + w.tensor().name());
        });
        Map<String, String> metadata = new LinkedHashMap<>();
        src.getMetadataPropsList().stream().filter(e -> !removedKeys.contains(e.getKey()))
                .forEach(e -> metadata.put(e.getKey(), e.getValue()));
        metadata.putAll(addedMetadata);
        if (metadata.keySet().stream().noneMatch(k -> k.startsWith(CompressedFormat.TENSOR_KEY_PREFIX))) {
            metadata.remove(CompressedFormat.FORMAT_KEY);
        }
        ModelProto.Builder model = src.toBuilder().setGraph(graph).clearMetadataProps();
        metadata.forEach((k, v) -> model.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return model.build();
    }

    /** Names the rewrite introduces must not clash with what the remaining graph already names. */
    private void checkNewNames(GraphProto g, List<NodeProto> added, List<Entry> initializers) {
        Set<String> removedNodes = removedNodes();
        Set<String> taken = new HashSet<>();
        source.initializers().stream().map(OnnxInitializer::name).filter(n -> !dropped.contains(n)).forEach(taken::add);
        g.getNodeList().stream().filter(n -> !removedNodes.contains(n.getName())).forEach(n -> taken.addAll(n.getOutputList()));
        g.getInputList().forEach(i -> taken.add(i.getName()));
        List<String> fresh = new ArrayList<>();
        initializers.stream().map(Entry::name).filter(n -> source.initializer(n).isEmpty()).forEach(fresh::add);
        added.forEach(n -> n.getOutputList().stream().filter(o -> !compressed.containsKey(o)).forEach(fresh::add));
        Set<String> seen = new HashSet<>();
        for (String name : fresh) {
            if (taken.contains(name) || !seen.add(name)) {
                throw clash(name);
            }
        }
    }

    private Set<String> removedNodes() {
        Set<String> removed = new HashSet<>();
        restoreAt.values().forEach(w -> removed.addAll(w.nodes()));
        return removed;
    }

    private ModelFormatException clash(String name) {
        return new ModelFormatException(source.path(), name, "the compressed model needs this name for a palettized"
                + " weight, but the graph already uses it; rename it or write a dense ONNX model (--onnx-output dense)");
    }
}
