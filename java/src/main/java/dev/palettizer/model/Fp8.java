package dev.palettizer.model;

/**
 * 8-bit float codecs for quantized LUTs: OCP E4M3FN (bias 7, no infinities, max 448) and
 * E5M2 (bias 15, IEEE-like infinities, max 57344).
 *
 * <p>Encoding rounds to nearest, ties to even, and saturates anything beyond the largest finite
 * value (infinities included) to it, because a LUT entry must stay usable; NaN cannot be encoded.
 * Decoding is a table lookup so it can sit in per-element loops.
 */
public final class Fp8 {
    private static final Format E4M3 = new Format(3, 7, 0x7E, false);
    private static final Format E5M2 = new Format(2, 15, 0x7B, true);

    private Fp8() {}

    /** Largest finite E4M3FN value (448). */
    public static float maxE4M3() {
        return E4M3.max;
    }

    /** Largest finite E5M2 value (57344). */
    public static float maxE5M2() {
        return E5M2.max;
    }

    public static byte encodeE4M3(float value) {
        return E4M3.encode(value);
    }

    /** The code's value; NaN for the two NaN codes (0x7F, 0xFF). */
    public static float decodeE4M3(byte code) {
        return E4M3.decode[code & 0xFF];
    }

    public static byte encodeE5M2(float value) {
        return E5M2.encode(value);
    }

    /** The code's value; ±Infinity for 0x7C / 0xFC, NaN for the other all-ones-exponent codes. */
    public static float decodeE5M2(byte code) {
        return E5M2.decode[code & 0xFF];
    }

    /**
     * A sign-magnitude binary format with {@code mantissaBits} stored bits and the given bias; codes
     * above {@code maxCode} (ignoring the sign) are NaN, or infinity when the mantissa is zero and
     * the format has infinities.
     */
    private static final class Format {
        private final int mantissaBits;
        private final int bias;
        private final int maxCode;
        private final boolean hasInfinity;
        private final float max;
        private final float[] decode = new float[256];

        Format(int mantissaBits, int bias, int maxCode, boolean hasInfinity) {
            this.mantissaBits = mantissaBits;
            this.bias = bias;
            this.maxCode = maxCode;
            this.hasInfinity = hasInfinity;
            for (int code = 0; code < 256; code++) {
                decode[code] = decodeSlow(code);
            }
            this.max = decode[maxCode];
        }

        private float decodeSlow(int code) {
            int exponentBits = 7 - mantissaBits;
            int exponent = (code >> mantissaBits) & ((1 << exponentBits) - 1);
            int mantissa = code & ((1 << mantissaBits) - 1);
            float magnitude;
            if ((code & 0x7F) > maxCode) {
                magnitude = hasInfinity && mantissa == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
            } else if (exponent == 0) {
                magnitude = Math.scalb((float) mantissa, 1 - bias - mantissaBits);
            } else {
                magnitude = Math.scalb((float) (mantissa | (1 << mantissaBits)), exponent - bias - mantissaBits);
            }
            return (code & 0x80) != 0 ? -magnitude : magnitude;
        }

        byte encode(float value) {
            if (Float.isNaN(value)) {
                throw new IllegalArgumentException("NaN has no fp8 encoding");
            }
            int sign = (Float.floatToRawIntBits(value) >>> 24) & 0x80;
            float magnitude = Math.abs(value);
            if (magnitude >= max) {
                return (byte) (sign | maxCode);
            }
            // Quantum of the target binade; below the smallest normal the subnormal quantum applies.
            int exponent = Math.max(Math.getExponent(magnitude), 1 - bias);
            // Exact: dividing by a power of two. rint rounds half to even.
            int steps = (int) Math.rint(magnitude / Math.scalb(1f, exponent - mantissaBits));
            // steps counts quanta including the implicit leading one, so adding it to the binade's base
            // code carries into the exponent field when rounding reaches the next binade.
            int code = ((exponent + bias - 1) << mantissaBits) + steps;
            return (byte) (sign | code);
        }
    }
}
