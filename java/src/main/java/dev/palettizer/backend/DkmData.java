package dev.palettizer.backend;

import dev.palettizer.model.DType;
import dev.palettizer.model.Floats;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A flat array of floats the DKM passes read and write in runs: a heap {@code float[]} or an off-heap
 * segment of F32, F16 or BF16 (little-endian). Calls are per run, never per element, so one interface
 * call is amortised over a run.
 */
public sealed interface DkmData {

    long length();

    /** Whether only the calling thread may touch it (a confined arena's segment): passes then run on that thread. */
    default boolean threadConfined() {
        return false;
    }

    /** Reads {@code len} consecutive elements from {@code from} into {@code dst[dstOff + i*dstStride]}. */
    void read(long from, int len, float[] dst, int dstOff, int dstStride);

    /** Writes {@code src[srcOff + i*srcStride]} to {@code len} consecutive elements from {@code from}. */
    void write(long from, int len, float[] src, int srcOff, int srcStride);

    /**
     * F16 or BF16 when the elements are stored as those 16-bit patterns, else null: the per-value passes
     * then use the patterns as keys and copy table bits, with no float round trip per element.
     */
    default DType bitsType() {
        return null;
    }

    /** Reads the 16-bit patterns of {@code len} elements from {@code from}; only when {@link #bitsType()} is not null. */
    default void readBits(long from, int len, short[] dst) {
        throw new IllegalStateException("DKM data of 32-bit floats has no 16-bit patterns to read");
    }

    /** Writes {@code len} 16-bit patterns from {@code from}; only when {@link #bitsType()} is not null. */
    default void writeBits(long from, int len, short[] src) {
        throw new IllegalStateException("DKM data of 32-bit floats has no 16-bit patterns to write");
    }

    static DkmData of(float[] array) {
        return new Heap(Objects.requireNonNull(array, "array"));
    }

    static DkmData of(MemorySegment segment, DType type) {
        Objects.requireNonNull(segment, "segment");
        if (!type.isPalettizable()) {
            throw new IllegalArgumentException("DKM arrays must be F32, F16 or BF16, got " + type);
        }
        if (segment.byteSize() % type.byteSize() != 0) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes is not a whole number of " + type);
        }
        return new Segment(segment, type);
    }

    record Heap(float[] array) implements DkmData {
        @Override
        public long length() {
            return array.length;
        }

        @Override
        public void read(long from, int len, float[] dst, int dstOff, int dstStride) {
            int f = (int) from;
            if (dstStride == 1) {
                System.arraycopy(array, f, dst, dstOff, len);
                return;
            }
            for (int i = 0; i < len; i++) {
                dst[dstOff + i * dstStride] = array[f + i];
            }
        }

        @Override
        public void write(long from, int len, float[] src, int srcOff, int srcStride) {
            int f = (int) from;
            if (srcStride == 1) {
                System.arraycopy(src, srcOff, array, f, len);
                return;
            }
            for (int i = 0; i < len; i++) {
                array[f + i] = src[srcOff + i * srcStride];
            }
        }
    }

    record Segment(MemorySegment segment, DType type) implements DkmData {
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        /** Never started: only asked whether a segment is accessible from a thread other than its owner. */
        private static final Thread OTHER = Thread.ofPlatform().unstarted(() -> { });

        @Override
        public long length() {
            return segment.byteSize() / type.byteSize();
        }

        @Override
        public boolean threadConfined() {
            return !segment.isAccessibleBy(OTHER);
        }

        @Override
        public DType bitsType() {
            return type == DType.F32 ? null : type;
        }

        @Override
        public void readBits(long from, int len, short[] dst) {
            requireBits();
            MemorySegment.copy(segment, U16, from * 2, dst, 0, len);
        }

        @Override
        public void writeBits(long from, int len, short[] src) {
            requireBits();
            MemorySegment.copy(src, 0, segment, U16, from * 2, len);
        }

        private void requireBits() {
            if (type == DType.F32) {
                throw new IllegalStateException("DKM data of F32 has no 16-bit patterns");
            }
        }

        @Override
        public void read(long from, int len, float[] dst, int dstOff, int dstStride) {
            switch (type) {
                case F32 -> {
                    for (int i = 0; i < len; i++) {
                        dst[dstOff + i * dstStride] = segment.getAtIndex(F32, from + i);
                    }
                }
                case F16 -> {
                    for (int i = 0; i < len; i++) {
                        dst[dstOff + i * dstStride] = Float.float16ToFloat(segment.getAtIndex(U16, from + i));
                    }
                }
                default -> {
                    for (int i = 0; i < len; i++) {
                        dst[dstOff + i * dstStride] = Floats.fromBf16(segment.getAtIndex(U16, from + i));
                    }
                }
            }
        }

        @Override
        public void write(long from, int len, float[] src, int srcOff, int srcStride) {
            switch (type) {
                case F32 -> {
                    for (int i = 0; i < len; i++) {
                        segment.setAtIndex(F32, from + i, src[srcOff + i * srcStride]);
                    }
                }
                case F16 -> {
                    for (int i = 0; i < len; i++) {
                        segment.setAtIndex(U16, from + i, Float.floatToFloat16(src[srcOff + i * srcStride]));
                    }
                }
                default -> {
                    for (int i = 0; i < len; i++) {
                        segment.setAtIndex(U16, from + i, Floats.toBf16(src[srcOff + i * srcStride]));
                    }
                }
            }
        }
    }
}
