package dev.palettizer.model;

import dev.palettizer.spec.LutDType;

/**
 * A LUT stored as 8-bit codes: value = (code - zeroPoint) * scale for int8/uint8, and
 * value = fp8(code) * scale for fp8 (zeroPoint 0). One scale for the whole tensor.
 */
public record QuantizedLut(LutDType dtype, byte[] codes, float scale, int zeroPoint) {

    /** The LUT values the codes stand for; the compressed format relies on these exact bits. */
    public float[] values() {
        float[] out = new float[codes.length];
        for (int i = 0; i < codes.length; i++) {
            byte c = codes[i];
            out[i] = switch (dtype) {
                case INT8 -> (c - zeroPoint) * scale;
                case UINT8 -> ((c & 0xFF) - zeroPoint) * scale;
                case FP8_E4M3 -> Fp8.decodeE4M3(c) * scale;
                case FP8_E5M2 -> Fp8.decodeE5M2(c) * scale;
            };
        }
        return out;
    }
}
