package dev.palettizer.kmeans;

import dev.palettizer.model.Fp8;
import dev.palettizer.model.QuantizedLut;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.QScheme;

/**
 * Per-tensor quantization of LUT values, following torch's min/max observer: symmetric int8 maps
 * max|v| to 127 (zero point 0), symmetric uint8 maps it to 127.5 around zero point 128,
 * asymmetric uses [min(v, 0), max(v, 0)] over the full range, fp8 scales max|v| to the format's
 * largest finite value. Monotone, so sorted LUTs stay sorted.
 */
public final class LutQuantizer {
    private LutQuantizer() {}

    public static QuantizedLut quantize(float[] lut, LutQuantSpec spec) {
        float min = 0;
        float max = 0;
        for (float v : lut) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        float amax = Math.max(-min, max);
        LutDType dtype = spec.dtype();
        byte[] codes = new byte[lut.length];
        return switch (dtype) {
            case FP8_E4M3, FP8_E5M2 -> {
                float scale = amax == 0 ? 1f : amax / (dtype == LutDType.FP8_E4M3 ? Fp8.maxE4M3() : Fp8.maxE5M2());
                for (int i = 0; i < lut.length; i++) {
                    codes[i] = dtype == LutDType.FP8_E4M3 ? Fp8.encodeE4M3(lut[i] / scale) : Fp8.encodeE5M2(lut[i] / scale);
                }
                yield new QuantizedLut(dtype, codes, scale, 0);
            }
            case INT8, UINT8 -> {
                int qmin = dtype == LutDType.INT8 ? -128 : 0;
                int qmax = dtype == LutDType.INT8 ? 127 : 255;
                float scale;
                int zeroPoint;
                if (spec.scheme() == QScheme.SYMMETRIC) {
                    scale = amax / ((qmax - qmin) / 2f);
                    zeroPoint = dtype == LutDType.INT8 ? 0 : 128;
                } else {
                    scale = (max - min) / (qmax - qmin);
                    zeroPoint = scale == 0 ? 0 : clamp(qmin - Math.round(min / scale), qmin, qmax);
                }
                if (scale == 0) {
                    scale = 1f;
                }
                for (int i = 0; i < lut.length; i++) {
                    codes[i] = (byte) clamp((int) Math.rint(lut[i] / scale) + zeroPoint, qmin, qmax);
                }
                yield new QuantizedLut(dtype, codes, scale, zeroPoint);
            }
        };
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
