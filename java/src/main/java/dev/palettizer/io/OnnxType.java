package dev.palettizer.io;

import dev.palettizer.model.DType;
import java.util.Arrays;
import java.util.Optional;

/**
 * ONNX tensor element types ({@code TensorProto.DataType}) with their size in bits (packed
 * sub-byte types included) and the engine's {@link DType} where there is one.
 */
public enum OnnxType {
    FLOAT(1, 32, DType.F32), UINT8(2, 8, DType.U8), INT8(3, 8, DType.I8), UINT16(4, 16, DType.U16),
    INT16(5, 16, DType.I16), INT32(6, 32, DType.I32), INT64(7, 64, DType.I64), STRING(8, 0, null),
    BOOL(9, 8, DType.BOOL), FLOAT16(10, 16, DType.F16), DOUBLE(11, 64, DType.F64), UINT32(12, 32, DType.U32),
    UINT64(13, 64, DType.U64), COMPLEX64(14, 64, null), COMPLEX128(15, 128, null), BFLOAT16(16, 16, DType.BF16),
    FLOAT8E4M3FN(17, 8, DType.F8_E4M3), FLOAT8E4M3FNUZ(18, 8, null), FLOAT8E5M2(19, 8, DType.F8_E5M2),
    FLOAT8E5M2FNUZ(20, 8, null), UINT4(21, 4, null), INT4(22, 4, null), FLOAT4E2M1(23, 4, null),
    FLOAT8E8M0(24, 8, null), UINT2(25, 2, null), INT2(26, 2, null);

    private final int code;
    private final int bits;
    private final DType dtype;

    OnnxType(int code, int bits, DType dtype) {
        this.code = code;
        this.bits = bits;
        this.dtype = dtype;
    }

    /** The {@code data_type} value in the protobuf. */
    public int code() {
        return code;
    }

    /** The engine's type, or null when it has none (strings, complex, sub-byte and FNUZ types). */
    public DType dtype() {
        return dtype;
    }

    public boolean isPalettizable() {
        return dtype != null && dtype.isPalettizable();
    }

    /** Whether the elements have a fixed size, so raw_data and external data must hold exactly {@link #rawBytes}. */
    boolean fixedSize() {
        return bits > 0;
    }

    /** The most elements whose {@link #rawBytes} a long can count. */
    long maxElements() {
        return Long.MAX_VALUE / bits;
    }

    /** Bytes of {@code elements} values in raw_data; sub-byte types pack from the low bits up. */
    long rawBytes(long elements) {
        return Math.multiplyExact(elements, bits) / 8 + (elements * bits % 8 == 0 ? 0 : 1);
    }

    public static Optional<OnnxType> of(int code) {
        return Arrays.stream(values()).filter(t -> t.code == code).findFirst();
    }

    public static OnnxType of(DType dtype) {
        return Arrays.stream(values()).filter(t -> t.dtype == dtype).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no ONNX type for " + dtype));
    }
}
