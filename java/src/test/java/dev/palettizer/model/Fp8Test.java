package dev.palettizer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class Fp8Test {

    /** Reference decoding straight from the format definition, in double. */
    private static double reference(int code, int mantissaBits, int bias, boolean hasInfinity) {
        int exponentBits = 7 - mantissaBits;
        int exponent = (code >> mantissaBits) & ((1 << exponentBits) - 1);
        int mantissa = code & ((1 << mantissaBits) - 1);
        double sign = (code & 0x80) != 0 ? -1 : 1;
        int topExponent = (1 << exponentBits) - 1;
        if (hasInfinity && exponent == topExponent) {
            return mantissa == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        }
        if (!hasInfinity && exponent == topExponent && mantissa == (1 << mantissaBits) - 1) {
            return Double.NaN;
        }
        double fraction = mantissa / (double) (1 << mantissaBits);
        return exponent == 0
                ? sign * fraction * Math.pow(2, 1 - bias)
                : sign * (1 + fraction) * Math.pow(2, exponent - bias);
    }

    @Test
    void decodesEveryE4M3CodeAsDefined() {
        for (int code = 0; code < 256; code++) {
            double expected = reference(code, 3, 7, false);
            float actual = Fp8.decodeE4M3((byte) code);
            assertEquals(expected, actual, 0.0, "code 0x" + Integer.toHexString(code));
            if (expected == 0) {
                assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual), "sign of zero");
            }
        }
    }

    @Test
    void decodesEveryE5M2CodeAsDefined() {
        for (int code = 0; code < 256; code++) {
            double expected = reference(code, 2, 15, true);
            float actual = Fp8.decodeE5M2((byte) code);
            assertEquals(expected, actual, 0.0, "code 0x" + Integer.toHexString(code));
            if (expected == 0) {
                assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual), "sign of zero");
            }
        }
    }

    @Test
    void knownValues() {
        assertEquals(1.0f, Fp8.decodeE4M3((byte) 0x38));
        assertEquals(-1.0f, Fp8.decodeE4M3((byte) 0xB8));
        assertEquals(448f, Fp8.decodeE4M3((byte) 0x7E));
        assertEquals(448f, Fp8.maxE4M3());
        assertEquals(0x1p-9f, Fp8.decodeE4M3((byte) 0x01));
        assertEquals(0x1p-6f, Fp8.decodeE4M3((byte) 0x08));
        assertTrue(Float.isNaN(Fp8.decodeE4M3((byte) 0x7F)));
        assertTrue(Float.isNaN(Fp8.decodeE4M3((byte) 0xFF)));
        assertEquals(-448f, Fp8.decodeE4M3((byte) 0xFE));

        assertEquals(1.0f, Fp8.decodeE5M2((byte) 0x3C));
        assertEquals(57344f, Fp8.decodeE5M2((byte) 0x7B));
        assertEquals(57344f, Fp8.maxE5M2());
        assertEquals(0x1p-16f, Fp8.decodeE5M2((byte) 0x01));
        assertEquals(0x1p-14f, Fp8.decodeE5M2((byte) 0x04));
        assertEquals(Float.POSITIVE_INFINITY, Fp8.decodeE5M2((byte) 0x7C));
        assertEquals(Float.NEGATIVE_INFINITY, Fp8.decodeE5M2((byte) 0xFC));
        assertTrue(Float.isNaN(Fp8.decodeE5M2((byte) 0x7D)));
    }

    @Test
    void everyFiniteCodeSurvivesARoundTrip() {
        for (int code = 0; code < 256; code++) {
            float e4m3 = Fp8.decodeE4M3((byte) code);
            if (Float.isFinite(e4m3)) {
                assertEquals((byte) code, Fp8.encodeE4M3(e4m3), "e4m3 0x" + Integer.toHexString(code));
            }
            float e5m2 = Fp8.decodeE5M2((byte) code);
            if (Float.isFinite(e5m2)) {
                assertEquals((byte) code, Fp8.encodeE5M2(e5m2), "e5m2 0x" + Integer.toHexString(code));
            }
        }
    }

    @Test
    void e4m3RoundsToNearestEvenLikeABruteForceSearch() {
        checkAgainstBruteForce(Fp8::decodeE4M3, Fp8::encodeE4M3, 448f);
    }

    @Test
    void e5m2RoundsToNearestEvenLikeABruteForceSearch() {
        checkAgainstBruteForce(Fp8::decodeE5M2, Fp8::encodeE5M2, 57344f);
    }

    /**
     * Every midpoint between neighbouring codes (where ties to even decide), the floats just either
     * side of it, and random values, all within the finite range, with both signs.
     */
    private static void checkAgainstBruteForce(
            Function<Byte, Float> decode, Function<Float, Byte> encode, float max) {
        List<Float> probes = new ArrayList<>();
        for (int code = 0; code < 0x7F; code++) {
            float low = decode.apply((byte) code);
            float high = decode.apply((byte) (code + 1));
            if (Float.isFinite(high)) {
                float mid = (low + high) / 2;
                probes.addAll(List.of(low, mid, Math.nextDown(mid), Math.nextUp(mid)));
            }
        }
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 20_000; i++) {
            probes.add((float) Math.scalb(random.nextDouble(), random.nextInt(-30, 1)) * max);
        }
        for (float probe : probes) {
            for (float value : new float[] {probe, -probe}) {
                byte expected = bruteForce(decode, value);
                assertEquals(expected, encode.apply(value), "encoding " + value);
            }
        }
    }

    /** The finite code nearest to {@code value}; on a tie the one with an even (zero) last bit. */
    private static byte bruteForce(Function<Byte, Float> decode, float value) {
        int sign = Math.copySign(1f, value) < 0 ? 0x80 : 0;
        double target = Math.abs((double) value);
        int best = -1;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (int code = 0; code < 0x80; code++) {
            float candidate = decode.apply((byte) code);
            if (!Float.isFinite(candidate)) {
                continue;
            }
            double distance = Math.abs(candidate - target);
            if (distance < bestDistance || (distance == bestDistance && (code & 1) == 0)) {
                best = code;
                bestDistance = distance;
            }
        }
        return (byte) (sign | best);
    }

    @Test
    void tiesGoToTheEvenCode() {
        // Half the smallest subnormal ties between 0 and code 1: 0 is even.
        assertEquals((byte) 0x00, Fp8.encodeE4M3(0x1p-10f));
        // 1.5 smallest subnormals ties between codes 1 and 2.
        assertEquals((byte) 0x02, Fp8.encodeE4M3(0x1.8p-9f));
        // 1 + 1/16 ties between 1 (0x38) and 1.125 (0x39).
        assertEquals((byte) 0x38, Fp8.encodeE4M3(1.0625f));
        // 1 + 3/16 ties between 1.125 (0x39) and 1.25 (0x3A).
        assertEquals((byte) 0x3A, Fp8.encodeE4M3(1.1875f));
        // 1 + 1/8 ties between 1 (0x3C) and 1.25 (0x3D) in e5m2.
        assertEquals((byte) 0x3C, Fp8.encodeE5M2(1.125f));
        assertEquals((byte) 0xBC, Fp8.encodeE5M2(-1.125f));
    }

    @Test
    void roundingCarriesIntoTheNextBinade() {
        // 1.9375 is nearer 2 than 1.875: mantissa overflow must bump the exponent.
        assertEquals(2f, Fp8.decodeE4M3(Fp8.encodeE4M3(1.97f)));
        // Largest subnormal rounds up to the smallest normal.
        assertEquals(0x1p-6f, Fp8.decodeE4M3(Fp8.encodeE4M3(0x1.fp-7f)));
    }

    @Test
    void saturatesAtTheLargestFiniteValue() {
        assertEquals((byte) 0x7E, Fp8.encodeE4M3(449f));
        assertEquals((byte) 0x7E, Fp8.encodeE4M3(464f));
        assertEquals((byte) 0x7E, Fp8.encodeE4M3(1e30f));
        assertEquals((byte) 0x7E, Fp8.encodeE4M3(Float.POSITIVE_INFINITY));
        assertEquals((byte) 0xFE, Fp8.encodeE4M3(Float.NEGATIVE_INFINITY));
        assertEquals((byte) 0x7B, Fp8.encodeE5M2(61440f));
        assertEquals((byte) 0x7B, Fp8.encodeE5M2(Float.POSITIVE_INFINITY));
        assertEquals((byte) 0xFB, Fp8.encodeE5M2(-1e9f));
    }

    @Test
    void keepsTheSignOfZeroAndTinyValues() {
        assertEquals((byte) 0x00, Fp8.encodeE4M3(0f));
        assertEquals((byte) 0x80, Fp8.encodeE4M3(-0f));
        assertEquals((byte) 0x80, Fp8.encodeE5M2(-Float.MIN_VALUE));
        assertEquals((byte) 0x00, Fp8.encodeE5M2(Float.MIN_VALUE));
    }

    @Test
    void refusesNaN() {
        IllegalArgumentException e4m3 = assertThrows(IllegalArgumentException.class, () -> Fp8.encodeE4M3(Float.NaN));
        assertTrue(e4m3.getMessage().contains("NaN"));
        assertThrows(IllegalArgumentException.class, () -> Fp8.encodeE5M2(Float.NaN));
    }
}
