package dev.palettizer.io;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.palettizer.io.OnnxSerializer.Entry;
import dev.palettizer.io.OnnxSerializer.Streamed;
import dev.palettizer.io.SafetensorsWriter.Payload;
import dev.palettizer.model.DType;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.QuantizedLut;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The standard-operator subgraph that expands one palettized weight {@code W} back to its dense
 * value, named {@code W}, so the nodes that consumed the initializer need no change:
 * <ol>
 *   <li>indices to int32 [N]: {@code Cast} from UINT8 (8 bits) or from UINT4 / UINT2 (when the
 *       model's opset runs them); otherwise the packed stream as UINT8 [M, n] (8 indices per n bytes,
 *       LSB first, as in the safetensors format), unpacked per block by {@code Gather} of the byte
 *       holding each index (and the next one, for 3 and 6 bits), {@code Div} by 2^shift and
 *       {@code Mod} 2^n: integer ops whose signatures have not changed since opset 11;</li>
 *   <li>with several LUTs: the indices reshaped to [A, G, B] and offset by {@code g * 2^n}, so one
 *       {@code Gather} reads the flattened [G * 2^n (, cluster_dim)] LUT (only G offsets are stored,
 *       not one per index);</li>
 *   <li>the LUT itself: float, or its int8/uint8/fp8 codes dequantized by {@code Cast}, {@code Sub} of
 *       the zero point and {@code Mul} by the scale;</li>
 *   <li>{@code Gather}, then for vectors {@code Transpose} of [R/cd, S, cd] to [R/cd, cd, S];
 *       {@code Mul} by the per-channel scales [R, 1]; {@code Reshape} to the engine shape;
 *       {@code Transpose} back to [in, out] for transposed weights; {@code Cast} to FLOAT16 or
 *       BFLOAT16 for 16-bit weights.</li>
 * </ol>
 * Constants live in {@code Constant} nodes, data in the initializers {@code W.lut},
 * {@code W.lut_scale}, {@code W.lut_zero_point}, {@code W.indices} and {@code W.scales}.
 */
final class OnnxExpansion {
    /** Lowest opset whose Gather, Slice, Mod, Reshape and Cast signatures the expansion uses. */
    static final long MIN_OPSET = 11;
    static final long FP8_OPSET = 19;
    static final long BF16_OPSET = 13;

    /** How the index stream is stored. */
    enum IndexEncoding {
        /** 8-bit indices, UINT8 [N]. */
        BYTES,
        /** UINT4 [N]: Cast runs it from opset 21 (IR 10). */
        UINT4,
        /** UINT2 [N]: Cast runs it from opset 25 (IR 11). */
        UINT2,
        /** The packed stream as UINT8 [ceil(N/8), n], unpacked with integer ops. */
        PACKED;

        static IndexEncoding choose(int bits, long opset, long irVersion) {
            if (bits == 8) {
                return BYTES;
            }
            if (bits == 4 && opset >= 21 && irVersion >= 10) {
                return UINT4;
            }
            if (bits == 2 && opset >= 25 && irVersion >= 11) {
                return UINT2;
            }
            return PACKED;
        }
    }

    /** What one weight adds: nodes (inputs only initializers and each other) and initializers. */
    record Expansion(List<NodeProto> nodes, List<Entry> initializers) {}

    private final PalettizedTensor t;
    private final OnnxInitializer w;
    private final GroupLayout layout;
    private final String name;
    private final List<NodeProto> nodes = new ArrayList<>();
    private final List<Entry> initializers = new ArrayList<>();

    private OnnxExpansion(PalettizedTensor t, OnnxInitializer w) {
        this.t = t;
        this.w = w;
        this.layout = GroupLayout.of(t.shape(), t.spec()).layout().orElseThrow(
                () -> new IllegalArgumentException("tensor '" + t.name() + "': spec does not fit its shape"));
        this.name = w.name();
    }

    static Expansion of(PalettizedTensor t, OnnxInitializer w, long opset, long irVersion) {
        OnnxExpansion e = new OnnxExpansion(t, w);
        String out = e.build(IndexEncoding.choose(t.spec().nBits(), opset, irVersion));
        e.renameLastOutput(out);
        return new Expansion(List.copyOf(e.nodes), List.copyOf(e.initializers));
    }

    private String build(IndexEncoding encoding) {
        String indices = indices(encoding);
        String lut = lut();
        String values = node("Gather", "values", List.of(lut, grouped(indices)), intAttr("axis", 0));
        long rows = layout.rows();
        long stride = layout.rowStride();
        int cd = layout.clusterDim();
        if (cd > 1) {
            String vectors = reshape(values, "vectors", rows / cd, stride, cd);
            values = node("Transpose", "columns", List.of(vectors), intsAttr("perm", 0, 2, 1));
        }
        if (t.channelScales() != null) {
            String matrix = reshape(values, "matrix", rows, stride);
            String scales = initializer(name + CompressedFormat.SCALES, OnnxType.FLOAT, new long[] {rows, 1},
                    Payload.ofFloats(t.channelScales()));
            values = node("Mul", "scaled", List.of(matrix, scales));
        }
        values = reshape(values, "dense", t.shape());
        if (w.transposed()) {
            values = node("Transpose", "stored", List.of(values), intsAttr("perm", 1, 0));
        }
        if (t.originalDType() != DType.F32) {
            values = node("Cast", "cast", List.of(values), intAttr("to", OnnxType.of(t.originalDType()).code()));
        }
        return values;
    }

    /** The index stream decoded to int32 [N]. */
    private String indices(IndexEncoding encoding) {
        byte[] packed = t.packedIndices();
        long n = t.indexCount();
        String stored = name + CompressedFormat.INDICES;
        return switch (encoding) {
            case BYTES -> cast(initializer(stored, OnnxType.UINT8, new long[] {n}, Payload.of(packed)), "indices");
            case UINT4 -> cast(initializer(stored, OnnxType.UINT4, new long[] {n}, Payload.of(packed)), "indices");
            case UINT2 -> cast(initializer(stored, OnnxType.UINT2, new long[] {n}, Payload.of(packed)), "indices");
            case PACKED -> unpack(stored, packed, n);
        };
    }

    /**
     * Index t of a block of 8 starts at bit t*n, in byte floor(t*n/8) at shift (t*n)%8; for 3 and 6
     * bits it may run into the next byte, so a 16-bit window lo + 256*hi is read. Bits of hi beyond
     * the index vanish in the Mod, so hi may be any byte when the index fits in lo.
     */
    private String unpack(String stored, byte[] packed, long count) {
        int bits = t.spec().nBits();
        long blocks = (count + 7) / 8;
        byte[] padded = Arrays.copyOf(packed, Math.toIntExact(blocks * bits));
        String bytes = cast(initializer(stored, OnnxType.UINT8, new long[] {blocks, bits}, Payload.of(padded)), "bytes");
        long[] lo = new long[8];
        long[] hi = new long[8];
        int[] divisors = new int[8];
        for (int i = 0; i < 8; i++) {
            lo[i] = i * bits / 8;
            hi[i] = Math.min(lo[i] + 1, bits - 1);
            divisors[i] = 1 << (i * bits % 8);
        }
        String window = node("Gather", "lo", List.of(bytes, constant("lo_at", int64s(lo))), intAttr("axis", 1));
        if (8 % bits != 0) {
            String high = node("Gather", "hi", List.of(bytes, constant("hi_at", int64s(hi))), intAttr("axis", 1));
            String shifted = node("Mul", "hi_shifted", List.of(high, constant("byte", int32s(new long[0], 256))));
            window = node("Add", "window", List.of(window, shifted));
        }
        String down = node("Div", "down", List.of(window, constant("divisors", int32s(new long[] {8}, divisors))));
        String fields = node("Mod", "fields", List.of(down, constant("radix", int32s(new long[0], 1 << bits))));
        String flat = reshape(fields, "unpacked", -1);
        if (blocks * 8 == count) {
            return flat;
        }
        return node("Slice", "indices", List.of(flat, constant("from", int64s(0)), constant("to", int64s(count)),
                constant("axis0", int64s(0))));
    }

    /**
     * Adds g * 2^n to the indices of group g, viewed as [A, G, B]; one group needs nothing. A ragged
     * last group (axis 0) is a block at the end of the stream: the full groups are offset as above,
     * the tail by (G - 1) * 2^n, then both are joined.
     */
    private String grouped(String indices) {
        int groups = layout.groups();
        if (groups == 1) {
            return indices;
        }
        int k = t.spec().lutSize();
        if (layout.ragged()) {
            long tailFirst = layout.prefixRows() / layout.clusterDim() * layout.rowStride();
            String full = slice(indices, "full", 0, tailFirst);
            String tail = slice(indices, "tail", tailFirst, layout.vectorCount());
            String fullOffset = reshape(offsetByGroup(full, "full_", groups - 1, tailFirst, k), "full_flat", -1);
            String tailOffset = node("Add", "tail_lut_rows",
                    List.of(tail, constant("tail_offset", int32s(new long[0], (groups - 1) * k))));
            return node("Concat", "lut_rows", List.of(fullOffset, tailOffset), intAttr("axis", 0));
        }
        return offsetByGroup(indices, "", groups, layout.vectorCount(), k);
    }

    /**
     * {@code indices} ({@code vectors} positions in {@code groups} full groups) offset by g * k; node
     * names start with {@code step} ("" for the plain path, whose graph stays as it was).
     */
    private String offsetByGroup(String indices, String step, int groups, long vectors, int k) {
        if (groups == 1) {
            return indices;
        }
        long[] view;
        long[] offsetShape;
        if (layout.axis() == 0) {
            view = new long[] {groups, vectors / groups};
            offsetShape = new long[] {groups, 1};
        } else {
            view = new long[] {layout.rows() / layout.clusterDim(), groups, layout.groupSize() * layout.inner()};
            offsetShape = new long[] {1, groups, 1};
        }
        int[] offsets = new int[groups];
        for (int g = 0; g < groups; g++) {
            offsets[g] = g * k;
        }
        String byGroup = reshape(indices, step + "by_group", view);
        String offsetsName = constant(step + "group_offsets", int32s(offsetShape, offsets));
        return node("Add", step + "lut_rows", List.of(byGroup, offsetsName));
    }

    private String slice(String input, String step, long from, long to) {
        return node("Slice", step, List.of(input, constant(step + "_from", int64s(from)),
                constant(step + "_to", int64s(to)), constant(step + "_axis", int64s(0))));
    }

    /**
     * The flattened LUT [G * 2^n] or [G * 2^n, cd]; codes are dequantized as (float(code) -
     * float(zero point)) * scale, the engine's arithmetic. Not DequantizeLinear: ONNX Runtime keeps
     * that op out of constant folding, so the whole weight would be rebuilt on every run.
     */
    private String lut() {
        int cd = t.spec().clusterDim();
        long entries = (long) t.groups() * t.spec().lutSize();
        long[] shape = cd == 1 ? new long[] {entries} : new long[] {entries, cd};
        String lutName = name + CompressedFormat.LUT;
        QuantizedLut q = t.quantizedLut();
        if (q == null) {
            return initializer(lutName, OnnxType.FLOAT, shape, Payload.ofFloats(t.lut()));
        }
        OnnxType codeType = OnnxType.of(CompressedFormat.storageType(q.dtype()));
        String codes = initializer(lutName, codeType, shape, Payload.of(q.codes()));
        String scale = initializer(name + CompressedFormat.LUT_SCALE, OnnxType.FLOAT, new long[0], Payload.ofFloats(q.scale()));
        String zero = initializer(name + CompressedFormat.LUT_ZERO_POINT, codeType, new long[0],
                Payload.of(new byte[] {(byte) q.zeroPoint()}));
        String centred = node("Sub", "lut_centred", List.of(toFloat(codes, "lut_codes"), toFloat(zero, "lut_zero")));
        return node("Mul", "lut", List.of(centred, scale));
    }

    // ---------------------------------------------------------------- graph building

    private String valueName(String step) {
        return name + "/palettizer/" + step;
    }

    private String node(String op, String step, List<String> inputs, AttributeProto... attributes) {
        String out = valueName(step);
        nodes.add(NodeProto.newBuilder().setOpType(op).setName("palettizer/" + name + "/" + step)
                .addAllInput(inputs).addOutput(out).addAllAttribute(List.of(attributes)).build());
        return out;
    }

    /** The last node writes {@code W} itself, so every consumer of the initializer reads the expansion. */
    private void renameLastOutput(String out) {
        NodeProto last = nodes.getLast();
        if (!last.getOutput(0).equals(out)) {
            throw new IllegalStateException("the expansion must end in its last node");
        }
        nodes.set(nodes.size() - 1, last.toBuilder().setOutput(0, name).build());
    }

    private String cast(String input, String step) {
        return node("Cast", step, List.of(input), intAttr("to", OnnxType.INT32.code()));
    }

    private String toFloat(String input, String step) {
        return node("Cast", step, List.of(input), intAttr("to", OnnxType.FLOAT.code()));
    }

    private String reshape(String input, String step, long... shape) {
        return node("Reshape", step, List.of(input, constant(step + "_shape", int64s(shape))));
    }

    private String constant(String step, TensorProto value) {
        return node("Constant", step, List.of(), AttributeProto.newBuilder().setName("value")
                .setType(AttributeProto.AttributeType.TENSOR).setT(value).build());
    }

    private String initializer(String tensorName, OnnxType type, long[] shape, Payload data) {
        TensorProto.Builder header = TensorProto.newBuilder().setName(tensorName).setDataType(type.code());
        Arrays.stream(shape).forEach(header::addDims);
        initializers.add(new Streamed(header.build(), data));
        return tensorName;
    }

    private static TensorProto int64s(long... values) {
        return TensorProto.newBuilder().setDataType(OnnxType.INT64.code()).addDims(values.length)
                .addAllInt64Data(Arrays.stream(values).boxed().toList()).build();
    }

    private static TensorProto int32s(long[] shape, int... values) {
        TensorProto.Builder b = TensorProto.newBuilder().setDataType(OnnxType.INT32.code());
        Arrays.stream(shape).forEach(b::addDims);
        Arrays.stream(values).forEach(b::addInt32Data);
        return b.build();
    }

    private static AttributeProto intAttr(String attribute, long value) {
        return AttributeProto.newBuilder().setName(attribute).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static AttributeProto intsAttr(String attribute, long... values) {
        return AttributeProto.newBuilder().setName(attribute).setType(AttributeProto.AttributeType.INTS)
                .addAllInts(Arrays.stream(values).boxed().toList()).build();
    }
}
