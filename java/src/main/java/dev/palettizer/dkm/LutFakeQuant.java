package dev.palettizer.dkm;

import dev.palettizer.model.Floats;
import dev.palettizer.spec.ClusterDType;

/**
 * cluster_dtype fake quantization of one LUT (all k*dim values of a partition), applied after every
 * centroid update in the forward pass. Its backward is the straight-through estimator (identity), as
 * torch's FakeQuantize: the rounding is locally constant, and with a range that covers every centroid
 * nothing is clipped.
 *
 * <p>I8/U8: one affine scale per LUT from its min and max, the range widened to include 0 (torch's
 * MinMaxObserver, per-tensor affine): {@code scale = (max - min) / (quantMax - quantMin)},
 * {@code zeroPoint = clamp(quantMin - rint(min / scale))}, {@code q = clamp(rint(c / scale) + zeroPoint)},
 * value {@code (q - zeroPoint) * scale}. coremltools uses a moving-average per-channel observer over the
 * centroid rows instead, which gives every scalar centroid its own scale and so quantizes almost nothing;
 * one scale per LUT is what a stored int8 LUT means, so we take that. F16/BF16: round each value to
 * nearest even (coremltools rounds its output weights to f16/bf16; we round the LUT, which is what is
 * stored).
 */
final class LutFakeQuant {
    private LutFakeQuant() {}

    static void apply(ClusterDType type, int quantMin, int quantMax, double[] c, int off, int len) {
        switch (type) {
            case F32 -> { }
            case F16 -> {
                for (int i = off; i < off + len; i++) {
                    c[i] = Float.float16ToFloat(Float.floatToFloat16((float) c[i]));
                }
            }
            case BF16 -> {
                for (int i = off; i < off + len; i++) {
                    c[i] = Floats.fromBf16(Floats.toBf16((float) c[i]));
                }
            }
            case I8, U8 -> {
                double min = 0;
                double max = 0;
                for (int i = off; i < off + len; i++) {
                    min = Math.min(min, c[i]);
                    max = Math.max(max, c[i]);
                }
                double scale = Math.max((max - min) / (quantMax - quantMin), Math.ulp(1f));
                double zeroPoint = Math.clamp(quantMin - Math.rint(min / scale), quantMin, quantMax);
                for (int i = off; i < off + len; i++) {
                    double q = Math.clamp(Math.rint(c[i] / scale) + zeroPoint, quantMin, quantMax);
                    c[i] = (q - zeroPoint) * scale;
                }
            }
        }
    }
}
