package dev.palettizer.backend;

import dev.palettizer.model.Floats;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which value each element counts as in the histogram. FP16_ROUNDED is the fast mode: cast to
 * fp16, then round to {@code decimals} decimal places.
 */
public record ValueKey(Kind kind, int decimals) {
    public enum Kind { FP16_ROUNDED, FP16, BF16, FP32 }

    public static ValueKey exact(Kind kind) {
        return new ValueKey(kind, 0);
    }

    public static ValueKey fastRounded(int decimals) {
        return new ValueKey(Kind.FP16_ROUNDED, decimals);
    }

    /** Whether every key is one of 65,536 bit patterns, so a dense histogram is exact. */
    public boolean sixteenBit() {
        return kind != Kind.FP32;
    }

    /** {@link #patternValues} per key, built once: fast mode's rounding (a pow and a division) costs more than a lookup. */
    private static final ConcurrentHashMap<ValueKey, float[]> PATTERN_VALUES = new ConcurrentHashMap<>();

    /** The value that elements with this 16-bit pattern count as. */
    public float valueOfPattern(int pattern) {
        return patternValues()[pattern & 0xffff];
    }

    /** {@link #valueOfPattern} of every 16-bit pattern, for hot loops (shared: read only). */
    public float[] patternValues() {
        if (kind == Kind.FP32) {
            throw new IllegalStateException("FP32 keys have no 16-bit pattern");
        }
        return PATTERN_VALUES.computeIfAbsent(this, ValueKey::computePatternValues);
    }

    private float[] computePatternValues() {
        float[] table = new float[65536];
        for (int p = 0; p < table.length; p++) {
            short bits = (short) p;
            table[p] = switch (kind) {
                case FP16 -> Float.float16ToFloat(bits);
                case BF16 -> Floats.fromBf16(bits);
                case FP16_ROUNDED -> round(Float.float16ToFloat(bits), decimals);
                case FP32 -> throw new IllegalStateException("FP32 keys have no 16-bit pattern");
            };
        }
        return table;
    }

    /** The 16-bit pattern of a value (its fp16 or bf16 encoding). */
    public int patternOf(float x) {
        return (kind == Kind.BF16 ? Floats.toBf16(x) : Float.floatToFloat16(x)) & 0xffff;
    }

    /** The value an element counts as. */
    public float keyOf(float x) {
        return kind == Kind.FP32 ? x : valueOfPattern(patternOf(x));
    }

    static float round(float x, int decimals) {
        double p = Math.pow(10, decimals);
        return (float) (Math.rint(x * p) / p);
    }
}
