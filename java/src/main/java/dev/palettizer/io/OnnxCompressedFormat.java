package dev.palettizer.io;

import ai.onnx.proto.OnnxMl.NodeProto;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.QuantizedLut;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The compressed ONNX model: each palettized weight {@code W} is stored as the initializers
 * {@code W.lut} (FLOAT [G * 2^n] or [G * 2^n, cluster_dim]; or INT8 / UINT8 / FLOAT8E4M3FN /
 * FLOAT8E5M2 codes with {@code W.lut_scale} FLOAT [] and {@code W.lut_zero_point} of the code
 * type []), {@code W.indices} (see {@link OnnxExpansion.IndexEncoding}; its bytes start with the same
 * LSB-first packed stream as the safetensors format) and {@code W.scales} (FLOAT [R, 1]), expanded
 * back to {@code W} by standard operators ({@link OnnxExpansion}). The model's metadata_props hold
 * {@code palettizer.format = 1}, {@code palettizer.tensor.W} (the safetensors format's per-tensor
 * JSON: spec, dtype, engine shape, groups, index count, error) and {@code palettizer.onnx.W}
 * ({@code {"transposed": bool, "nodes": [names of the expansion nodes]}}). The opset is never
 * changed: a newer one would change the meaning of the model's other nodes.
 */
public final class OnnxCompressedFormat {
    static final String ONNX_KEY_PREFIX = "palettizer.onnx.";

    private OnnxCompressedFormat() {}

    /**
     * Fails when {@code model} cannot carry {@code w} palettized with {@code spec} as a compressed
     * ONNX model; a dense ONNX output has no such limits.
     *
     * @throws SpecException naming the tensor, what is missing and what to do
     */
    public static void checkWritable(OnnxModel model, OnnxInitializer w, PalettizationSpec spec) {
        String prefix = model.path() + ": tensor '" + w.name() + "': ";
        String dense = "; or write a dense ONNX model (--onnx-output dense)";
        long opset = model.opset();
        if (opset < OnnxExpansion.MIN_OPSET) {
            throw new SpecException(prefix + "compressed ONNX output needs opset >= " + OnnxExpansion.MIN_OPSET
                    + " but the model imports opset " + opset + dense);
        }
        if (model.irVersion() < 4) {
            throw new SpecException(prefix + "compressed ONNX output needs IR version >= 4 (initializers that are not"
                    + " graph inputs) but the model has IR version " + model.irVersion() + dense);
        }
        LutQuantSpec q = spec.lutQuant();
        if (q != null && !q.dtype().isInteger() && opset < OnnxExpansion.FP8_OPSET) {
            throw new SpecException(prefix + q.dtype().cliName() + " LUTs need Cast from float8 (opset "
                    + OnnxExpansion.FP8_OPSET + ") but the model imports opset " + opset + ": not supported for ONNX"
                    + " output; use an int8 or uint8 LUT" + dense);
        }
        if (w.type() == OnnxType.BFLOAT16 && opset < OnnxExpansion.BF16_OPSET) {
            throw new SpecException(prefix + "BFLOAT16 weights need Cast of opset " + OnnxExpansion.BF16_OPSET
                    + " but the model imports opset " + opset + dense);
        }
    }

    /** The metadata entries describing palettized {@code t} in the graph, format version included. */
    static Map<String, String> metadataFor(PalettizedTensor t, boolean transposed, List<NodeProto> nodes) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(CompressedFormat.FORMAT_KEY, CompressedFormat.FORMAT_VERSION);
        m.put(CompressedFormat.TENSOR_KEY_PREFIX + t.name(), TensorMetadata.of(t).toJson());
        ObjectNode onnx = JsonFields.objectNode().put("transposed", transposed);
        nodes.forEach(n -> onnx.withArray("nodes").add(n.getName()));
        try {
            m.put(ONNX_KEY_PREFIX + t.name(), JsonFields.string(onnx));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot serialise palettization metadata", e);
        }
        return m;
    }

    /** Whether the model carries palettized weights (its metadata names the format). */
    public static boolean isCompressed(OnnxModel model) {
        return model.metadata().containsKey(CompressedFormat.FORMAT_KEY);
    }

    /**
     * Reads the palettized weights of a compressed ONNX model, checking every initializer against
     * the metadata.
     *
     * @throws ModelFormatException if the model is not a consistent compressed ONNX model
     */
    public static OnnxCompressedModel read(OnnxModel model) {
        return new Reader(model).read();
    }

    private static final class Reader {
        private final OnnxModel model;
        private final Path path;
        private final Map<String, String> metadata;
        private final Set<String> nodeNames = new HashSet<>();
        private final Set<String> consumed = new HashSet<>();

        Reader(OnnxModel model) {
            this.model = model;
            this.path = model.path();
            this.metadata = model.metadata();
            model.proto().getGraph().getNodeList().forEach(n -> nodeNames.add(n.getName()));
        }

        OnnxCompressedModel read() {
            String version = metadata.get(CompressedFormat.FORMAT_KEY);
            if (version == null) {
                throw new ModelFormatException(path, "metadata_props has no " + CompressedFormat.FORMAT_KEY
                        + ": not a palettized ONNX model");
            }
            if (!version.equals(CompressedFormat.FORMAT_VERSION)) {
                throw new ModelFormatException(path, "metadata_props " + CompressedFormat.FORMAT_KEY + " is '" + version
                        + "', but this version reads only " + CompressedFormat.FORMAT_VERSION);
            }
            List<OnnxCompressedModel.Weight> weights = new ArrayList<>();
            metadata.forEach((key, json) -> {
                if (key.startsWith(CompressedFormat.TENSOR_KEY_PREFIX)) {
                    weights.add(weight(key.substring(CompressedFormat.TENSOR_KEY_PREFIX.length()), key, json));
                }
            });
            List<String> plain = model.initializers().stream().map(OnnxInitializer::name)
                    .filter(n -> !consumed.contains(n)).toList();
            return new OnnxCompressedModel(weights, plain);
        }

        private OnnxCompressedModel.Weight weight(String name, String key, String json) {
            TensorMetadata meta = TensorMetadata.parse(json, "value",
                    detail -> new ModelFormatException(path, name, "metadata_props " + key + ": " + detail));
            String onnxKey = ONNX_KEY_PREFIX + name;
            String onnxJson = metadata.get(onnxKey);
            if (onnxJson == null) {
                throw new ModelFormatException(path, name, "metadata_props " + onnxKey + ": missing, but " + key + " needs it");
            }
            JsonFields onnx = JsonFields.parseObject(onnxJson, "value",
                    detail -> new ModelFormatException(path, name, "metadata_props " + onnxKey + ": " + detail));
            onnx.allowOnly(List.of("transposed", "nodes"));
            boolean transposed = onnx.bool("transposed");
            if (transposed && meta.shape().length != 2) {
                throw new ModelFormatException(path, name, "metadata_props " + onnxKey + ": transposed, but shape "
                        + Arrays.toString(meta.shape()) + " is not 2-D");
            }
            List<String> nodes = nodes(onnx.require("nodes"), name, onnxKey);
            if (model.initializer(name).isPresent()) {
                throw new ModelFormatException(path, name, "is an initializer, but " + key + " says the graph computes it");
            }
            PalettizationSpec spec = meta.spec();
            int cd = spec.clusterDim();
            long entries = (long) meta.groups() * spec.lutSize();
            long[] lutShape = cd == 1 ? new long[] {entries} : new long[] {entries, cd};
            List<String> used = new ArrayList<>();
            float[] lut;
            QuantizedLut quantized = null;
            LutQuantSpec qspec = spec.lutQuant();
            String lutName = name + CompressedFormat.LUT;
            if (qspec == null) {
                lut = floats(require(lutName, OnnxType.FLOAT, lutShape, key, used));
            } else {
                OnnxType codeType = OnnxType.of(CompressedFormat.storageType(qspec.dtype()));
                byte[] codes = rawBytes(require(lutName, codeType, lutShape, key, used));
                float scale = floats(require(name + CompressedFormat.LUT_SCALE, OnnxType.FLOAT, new long[0], key, used))[0];
                byte zero = rawBytes(require(name + CompressedFormat.LUT_ZERO_POINT, codeType, new long[0], key, used))[0];
                int zeroPoint = qspec.dtype() == LutDType.UINT8 ? zero & 0xFF : zero;
                if (!qspec.dtype().isInteger() && zeroPoint != 0) {
                    throw new ModelFormatException(path, name + CompressedFormat.LUT_ZERO_POINT, "zero point "
                            + zeroPoint + " but lut_qspec dtype " + qspec.dtype().cliName() + " has none (must be 0)");
                }
                quantized = new QuantizedLut(qspec.dtype(), codes, scale, zeroPoint);
                lut = quantized.values();
            }
            byte[] packed = indices(name, meta, key, used);
            float[] scales = null;
            if (spec.perChannelScale()) {
                scales = floats(require(name + CompressedFormat.SCALES, OnnxType.FLOAT, new long[] {meta.shape()[0], 1},
                        key, used));
            }
            PalettizedTensor t = new PalettizedTensor(name, spec, meta.dtype(), meta.shape(), meta.groups(), lut,
                    quantized, packed, meta.indexCount(), scales, meta.error());
            return new OnnxCompressedModel.Weight(t, transposed, nodes, used);
        }

        private List<String> nodes(JsonNode array, String name, String key) {
            if (!array.isArray() || array.isEmpty()) {
                throw new ModelFormatException(path, name, "metadata_props " + key + ": nodes must be a non-empty array of"
                        + " node names, got " + array);
            }
            List<String> out = new ArrayList<>();
            for (JsonNode n : array) {
                if (!n.isTextual() || !nodeNames.contains(n.textValue())) {
                    throw new ModelFormatException(path, name, "metadata_props " + key + ": node " + n
                            + " is not a node of the graph");
                }
                out.add(n.textValue());
            }
            return out;
        }

        /** The packed stream, whichever encoding stores it: it is always the first bytes. */
        private byte[] indices(String name, TensorMetadata meta, String key, List<String> used) {
            int bits = meta.spec().nBits();
            long count = meta.indexCount();
            String indicesName = name + CompressedFormat.INDICES;
            OnnxInitializer t = entry(indicesName, key, used);
            long[] dims = t.shape();
            boolean ok = switch (t.type()) {
                case UINT8 -> bits == 8 ? Arrays.equals(dims, new long[] {count})
                        : Arrays.equals(dims, new long[] {(count + 7) / 8, bits});
                case UINT4 -> bits == 4 && Arrays.equals(dims, new long[] {count});
                case UINT2 -> bits == 2 && Arrays.equals(dims, new long[] {count});
                default -> false;
            };
            if (!ok) {
                throw new ModelFormatException(path, indicesName, "is " + t + " but " + key + " index_count " + count
                        + " at n_bits " + bits + " needs UINT8[" + count + "] (8 bits), UINT4/UINT2[" + count
                        + "] or UINT8[" + (count + 7) / 8 + ", " + bits + "] (packed)");
            }
            return Arrays.copyOf(rawBytes(t), Math.toIntExact(CompressedFormat.packedIndexBytes(count, bits)));
        }

        private OnnxInitializer require(String tensor, OnnxType type, long[] shape, String key, List<String> used) {
            OnnxInitializer t = entry(tensor, key, used);
            if (t.type() != type || !Arrays.equals(t.shape(), shape)) {
                throw new ModelFormatException(path, tensor, "is " + t + " but " + key + " needs " + type
                        + Arrays.toString(shape));
            }
            return t;
        }

        private OnnxInitializer entry(String tensor, String key, List<String> used) {
            OnnxInitializer t = model.initializer(tensor).orElseThrow(() -> new ModelFormatException(path, tensor,
                    "missing initializer, but metadata_props " + key + " needs it"));
            consumed.add(tensor);
            used.add(tensor);
            return t;
        }

        private byte[] rawBytes(OnnxInitializer t) {
            if (t.bytes() == null) {
                throw new ModelFormatException(path, t.name(), "field raw_data: missing; palettizer data must be stored raw");
            }
            return t.bytes().toArray(ValueLayout.JAVA_BYTE);
        }

        private static float[] floats(OnnxInitializer t) {
            FloatSource s = t.floats();
            float[] out = new float[Math.toIntExact(s.size())];
            s.read(0, out, 0, out.length);
            return out;
        }
    }
}
