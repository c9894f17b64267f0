package dev.palettizer.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** A {@link FloatSource} over little-endian F32, F16 or BF16 data in a (typically mapped) segment. */
public record SegmentSource(MemorySegment data, DType dtype) implements FloatSource {
    private static final ValueLayout.OfFloat F32 =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public SegmentSource {
        if (!dtype.isPalettizable()) {
            throw new IllegalArgumentException("cannot read " + dtype + " as floats (only F32, F16, BF16)");
        }
        if (data.byteSize() % dtype.byteSize() != 0) {
            throw new IllegalArgumentException("segment of " + data.byteSize() + " bytes is not a whole number of "
                    + dtype + " elements");
        }
    }

    @Override
    public void release() {
        if (data.isMapped()) {
            data.unload();
        }
    }

    @Override
    public long size() {
        return data.byteSize() / dtype.byteSize();
    }

    @Override
    public void read(long offset, float[] dst, int dstOff, int len) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32, offset * 4, dst, dstOff, len);
            case F16 -> {
                long base = offset * 2;
                for (int i = 0; i < len; i++) {
                    dst[dstOff + i] = Float.float16ToFloat(data.get(I16, base + 2L * i));
                }
            }
            case BF16 -> {
                long base = offset * 2;
                for (int i = 0; i < len; i++) {
                    dst[dstOff + i] = Floats.fromBf16(data.get(I16, base + 2L * i));
                }
            }
            default -> throw new IllegalStateException(dtype.toString());
        }
    }
}
