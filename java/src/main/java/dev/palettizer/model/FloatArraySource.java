package dev.palettizer.model;

import java.util.Objects;

/** A {@link FloatSource} over a heap array (not copied: the caller must not modify it meanwhile). */
public record FloatArraySource(float[] values) implements FloatSource {
    public FloatArraySource {
        Objects.requireNonNull(values, "values");
    }

    @Override
    public long size() {
        return values.length;
    }

    @Override
    public void read(long offset, float[] dst, int dstOff, int len) {
        System.arraycopy(values, Math.toIntExact(offset), dst, dstOff, len);
    }
}
