package dev.palettizer.io;

import ai.onnx.proto.OnnxMl.TensorProto;
import dev.palettizer.io.SafetensorsWriter.Payload;
import dev.palettizer.model.DType;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.Floats;
import dev.palettizer.model.SegmentSource;
import dev.palettizer.model.Shapes;
import dev.palettizer.model.TransposedSource;
import dev.palettizer.model.WeightSite;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One initializer of an {@link OnnxModel}, validated: its bytes (raw_data or external data, read
 * from the mapping) or typed field hold exactly its dims' elements. Valid while the model is open.
 *
 * <p><b>Engine view.</b> The engine treats axis 0 as the output channels (per-channel scales,
 * grouped LUTs, vectors). PyTorch stores a Linear weight as [out, in], but the exporter hands
 * MatMul its transpose [in, out] (likewise Gemm's B without transB). For those weights the engine
 * sees the transpose ({@link #transposed()}), so ONNX and safetensors copies of a model are
 * palettized alike; every other tensor (Conv [out, in, k...], Gather/Embedding [vocab, dim], Gemm
 * B with transB) is seen as stored.
 */
public final class OnnxInitializer {
    private final String name;
    private final OnnxType type;
    private final long[] shape;
    private final TensorProto proto;
    private final MemorySegment bytes;
    private final boolean external;
    private final WeightSite site;
    private final boolean transposed;
    private final Path file;

    OnnxInitializer(String name, OnnxType type, long[] shape, TensorProto proto, MemorySegment bytes, boolean external,
               WeightSite site, boolean transposed, Path file) {
        this.name = name;
        this.type = type;
        this.shape = shape.clone();
        this.proto = proto;
        this.bytes = bytes;
        this.external = external;
        this.site = site;
        this.transposed = transposed;
        this.file = file;
    }

    public String name() {
        return name;
    }

    public OnnxType type() {
        return type;
    }

    public long[] shape() {
        return shape.clone();
    }

    public long elementCount() {
        return Shapes.elementCount(shape);
    }

    /** Bytes of the data as stored (raw or external), or of the typed field's encoding. */
    public long byteSize() {
        return bytes != null ? bytes.byteSize() : proto.getSerializedSize();
    }

    /** Where the tensor sits in the graph: module, consuming op, state. */
    public WeightSite site() {
        return site;
    }

    /** Whether the engine sees the transpose of the stored [in, out] matrix (see the class comment). */
    public boolean transposed() {
        return transposed;
    }

    /** The shape the engine sees: the stored one, or its transpose. */
    public long[] engineShape() {
        return transposed ? new long[] {shape[1], shape[0]} : shape();
    }

    /** The values in stored order; only FLOAT, FLOAT16 and BFLOAT16 qualify. */
    public FloatSource floats() {
        if (!type.isPalettizable()) {
            throw new ModelFormatException(file, name, "data_type " + type + " cannot be read as floats"
                    + " (only FLOAT, FLOAT16 and BFLOAT16 can)");
        }
        DType dtype = type.dtype();
        if (bytes != null) {
            return new SegmentSource(bytes, dtype);
        }
        return dtype == DType.F32 ? new FloatDataSource(proto) : new HalfInInt32Source(proto, dtype);
    }

    /** The values in the engine's orientation. */
    public FloatSource engineFloats() {
        return transposed ? new TransposedSource(floats(), shape[0], shape[1]) : floats();
    }

    /**
     * The elements as little-endian bytes of {@code type().dtype()}, as a safetensors file stores them:
     * raw or external data as mapped, a typed field (float_data, int32_data, ...) encoded as written.
     *
     * @throws IllegalArgumentException if the type has no engine dtype (strings, complex, sub-byte types)
     */
    public Payload stored() {
        if (type.dtype() == null) {
            throw new IllegalArgumentException("tensor '" + name + "': data_type " + type + " has no safetensors dtype");
        }
        return bytes != null ? Payload.of(bytes) : new TypedFieldPayload(this);
    }

    boolean external() {
        return external;
    }

    /** The protobuf entry; for external tensors, its data lives in {@link #bytes()}. */
    TensorProto proto() {
        return proto;
    }

    /** The raw little-endian data, mapped, or null when the values sit in a typed field (float_data, ...). */
    MemorySegment bytes() {
        return bytes;
    }

    @Override
    public String toString() {
        return name + " " + type + Arrays.toString(shape);
    }

    /**
     * A typed field's values in the tensor's dtype, little-endian: int32_data holds the 8- and 16-bit
     * types in its low bits, uint64_data holds UINT32 and UINT64.
     */
    private record TypedFieldPayload(OnnxInitializer t) implements Payload {
        @Override
        public long byteSize() {
            return t.elementCount() * t.type.dtype().byteSize();
        }

        @Override
        public void writeTo(WritableByteChannel out) throws IOException {
            TensorProto p = t.proto;
            long count = switch (t.type) {
                case FLOAT -> p.getFloatDataCount();
                case INT64 -> p.getInt64DataCount();
                case DOUBLE -> p.getDoubleDataCount();
                case UINT32, UINT64 -> p.getUint64DataCount();
                default -> p.getInt32DataCount();
            };
            if (count != t.elementCount()) {
                throw new ModelFormatException(t.file, t.name, "typed data field holds " + count + " values but dims "
                        + Arrays.toString(t.shape) + " need " + t.elementCount());
            }
            int size = t.type.dtype().byteSize();
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(byteSize(), 1 << 16)).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
                if (buf.remaining() < size) {
                    Payloads.writeFully(out, buf.flip());
                    buf.clear();
                }
                switch (t.type) {
                    case FLOAT -> buf.putFloat(p.getFloatData(i));
                    case INT64 -> buf.putLong(p.getInt64Data(i));
                    case DOUBLE -> buf.putDouble(p.getDoubleData(i));
                    case UINT32 -> buf.putInt((int) p.getUint64Data(i));
                    case UINT64 -> buf.putLong(p.getUint64Data(i));
                    default -> {
                        int v = p.getInt32Data(i);
                        switch (size) {
                            case 1 -> buf.put((byte) v);
                            case 2 -> buf.putShort((short) v);
                            default -> buf.putInt(v);
                        }
                    }
                }
            }
            Payloads.writeFully(out, buf.flip());
        }
    }

    /** float_data of a FLOAT tensor. */
    private record FloatDataSource(TensorProto t) implements FloatSource {
        @Override
        public long size() {
            return t.getFloatDataCount();
        }

        @Override
        public void read(long offset, float[] dst, int dstOff, int len) {
            for (int i = 0; i < len; i++) {
                dst[dstOff + i] = t.getFloatData((int) offset + i);
            }
        }
    }

    /** int32_data of a FLOAT16 or BFLOAT16 tensor: one 16-bit pattern in the low bits of each int. */
    private record HalfInInt32Source(TensorProto t, DType dtype) implements FloatSource {
        @Override
        public long size() {
            return t.getInt32DataCount();
        }

        @Override
        public void read(long offset, float[] dst, int dstOff, int len) {
            for (int i = 0; i < len; i++) {
                short bits = (short) t.getInt32Data((int) offset + i);
                dst[dstOff + i] = dtype == DType.F16 ? Float.float16ToFloat(bits) : Floats.fromBf16(bits);
            }
        }
    }
}
