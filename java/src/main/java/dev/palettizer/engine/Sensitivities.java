package dev.palettizer.engine;

import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.FloatSource;

/**
 * The seed's sensitivity normalisation, for accumulated squared gradients: scale by 100, divide
 * by the maximum (an all-zero tensor becomes all ones), replace zeros by the smallest non-zero
 * value, and clip below {@link #CLIP}. Weighted k-means is scale-invariant, so this changes no
 * result beyond making zero-sensitivity elements count a little instead of not at all.
 */
public final class Sensitivities {
    /** Floor that keeps k-means from diverging on vanishing weights. */
    public static final float CLIP = 1e-12f;
    private static final int CHUNK = 8192;

    private Sensitivities() {}

    /** Normalised copy of accumulated squared gradients (input not modified). */
    public static float[] normalize(float[] sumSquaredGradients) {
        float[] out = sumSquaredGradients.clone();
        Range r = range(new FloatArraySource(out));
        if (r.isIdentity()) {
            return out;
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = r.apply(out[i]);
        }
        return out;
    }

    /** A view of {@code raw} normalised element by element as {@link #normalize} does, without a copy. */
    public static FloatSource normalized(FloatSource raw) {
        Range r = range(raw);
        if (r.isIdentity()) {
            return raw;
        }
        return new FloatSource() {
            @Override
            public long size() {
                return raw.size();
            }

            @Override
            public void read(long offset, float[] dst, int dstOff, int len) {
                raw.read(offset, dst, dstOff, len);
                for (int i = dstOff; i < dstOff + len; i++) {
                    dst[i] = r.apply(dst[i]);
                }
            }

            @Override
            public void release() {
                raw.release();
            }
        };
    }

    /**
     * Largest scaled value and the smallest non-zero one relative to it, which define the mapping, and
     * whether there are zeros to replace.
     */
    private record Range(float max, float minNonZero, boolean zeros) {
        /**
         * Values normalised already (largest exactly 1, none zero or below the clip), such as a saved
         * sensitivity file, map to themselves; skipping the arithmetic keeps them bit for bit, as the
         * seed uses a loaded file as it is.
         */
        boolean isIdentity() {
            return max == 100f && !zeros && minNonZero >= CLIP;
        }

        float apply(float raw) {
            if (max == 0) {
                return 1f;
            }
            float v = (100f * raw) / max;
            if (v == 0) {
                v = minNonZero;
            }
            return v < CLIP ? CLIP : v;
        }
    }

    private static Range range(FloatSource raw) {
        float[] buf = new float[CHUNK];
        float max = 0;
        float min = Float.POSITIVE_INFINITY;
        boolean zeros = false;
        for (long off = 0; off < raw.size(); off += CHUNK) {
            int len = (int) Math.min(CHUNK, raw.size() - off);
            raw.read(off, buf, 0, len);
            for (int i = 0; i < len; i++) {
                float v = 100f * buf[i];
                if (!(v >= 0) || Float.isInfinite(v)) {
                    throw new TensorDataException("sensitivity " + buf[i] + " at element " + (off + i)
                            + " is not a finite non-negative number (expected accumulated squared gradients)");
                }
                max = Math.max(max, v);
                if (v > 0) {
                    min = Math.min(min, v);
                } else {
                    zeros = true;
                }
            }
        }
        return new Range(max, max == 0 ? 1f : min / max, zeros);
    }
}
