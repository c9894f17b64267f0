package dev.palettizer.io;

import dev.palettizer.model.DType;
import dev.palettizer.model.Floats;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.SparseOutliers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Function;

/**
 * The byte layout both compressed formats give a tensor's outliers: {@code W.outlier_positions},
 * flat element indices in the engine orientation, strictly ascending, little-endian int32 when the
 * tensor has fewer than 2^31 elements and int64 otherwise; {@code W.outlier_values}, the exact
 * values in the tensor's original dtype (F32, F16 or BF16), little-endian.
 */
final class OutlierTensors {
    static final String POSITIONS = ".outlier_positions";
    static final String VALUES = ".outlier_values";

    private OutlierTensors() {}

    /** I32 or I64, by the tensor's element count. */
    static DType positionType(long elements) {
        return SparseOutliers.int32Positions(elements) ? DType.I32 : DType.I64;
    }

    static byte[] positionBytes(SparseOutliers o, long elements) {
        boolean narrow = SparseOutliers.int32Positions(elements);
        ByteBuffer b = ByteBuffer.allocate(o.count() * (narrow ? 4 : 8)).order(ByteOrder.LITTLE_ENDIAN);
        for (long p : o.positions()) {
            if (narrow) {
                b.putInt((int) p);
            } else {
                b.putLong(p);
            }
        }
        return b.array();
    }

    static byte[] valueBytes(SparseOutliers o, DType dtype) {
        ByteBuffer b = ByteBuffer.allocate(o.count() * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : o.values()) {
            switch (dtype) {
                case F32 -> b.putFloat(v);
                case F16 -> b.putShort(Float.floatToFloat16(v));
                case BF16 -> b.putShort(Floats.toBf16(v));
                default -> throw new IllegalArgumentException("outlier values cannot be " + dtype);
            }
        }
        return b.array();
    }

    static long[] positions(byte[] bytes, DType type) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long[] out = new long[bytes.length / type.byteSize()];
        for (int i = 0; i < out.length; i++) {
            out[i] = type == DType.I32 ? b.getInt() : b.getLong();
        }
        return out;
    }

    static float[] values(byte[] bytes, DType dtype) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[bytes.length / dtype.byteSize()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (dtype) {
                case F32 -> b.getFloat();
                case F16 -> Float.float16ToFloat(b.getShort());
                case BF16 -> Floats.fromBf16(b.getShort());
                default -> throw new IllegalArgumentException("outlier values cannot be " + dtype);
            };
        }
        return out;
    }

    /**
     * Checks {@code t}'s outliers against its spec: present exactly when the spec asks, as many as
     * it asks, positions in range and ascending, values exact in the original dtype.
     */
    static void validate(PalettizedTensor t, Function<String, RuntimeException> fail) {
        SparseOutliers o = t.outliers();
        long expected = t.spec().outlierCount(t.elementCount());
        if (o == null) {
            if (expected != 0) {
                throw fail.apply("outliers absent but spec outlier_fraction " + t.spec().outlierFraction() + " needs "
                        + expected);
            }
            return;
        }
        if (o.count() != expected) {
            throw fail.apply("holds " + o.count() + " outliers but outlier_fraction " + t.spec().outlierFraction()
                    + " of " + t.elementCount() + " elements needs " + expected);
        }
        String problem = o.positionProblem(t.elementCount());
        if (problem != null) {
            throw fail.apply("outlier " + problem);
        }
        float[] stored = values(valueBytes(o, t.originalDType()), t.originalDType());
        for (int i = 0; i < stored.length; i++) {
            if (Float.floatToRawIntBits(stored[i]) != Float.floatToRawIntBits(o.values()[i])) {
                throw fail.apply("outlier value[" + i + "] = " + o.values()[i] + " is not exact in "
                        + t.originalDType());
            }
        }
    }
}
