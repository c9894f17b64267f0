package dev.palettizer.backend;

/**
 * How the device kernels (kernels/common/palettizer_core.h) are told about a {@link ValueKey}: its
 * kind as the core's PAL_KEY_* constant, and for 16-bit kinds the sortable key of the value Java
 * gives each pattern, so that fast mode's decimal rounding is Java's own.
 */
public final class KernelKeys {
    /** Number of 16-bit patterns, and so of dense histogram bins. */
    public static final int PATTERNS = 65536;

    private KernelKeys() {}

    /** PAL_KEY_FP16 (0), PAL_KEY_BF16 (1) or PAL_KEY_FP32 (2). */
    public static int kind(ValueKey key) {
        return switch (key.kind()) {
            case FP16, FP16_ROUNDED -> 0;
            case BF16 -> 1;
            case FP32 -> 2;
        };
    }

    /** Per 16-bit pattern, {@link FloatOrder#sortable} of the value {@code key} gives it, sign bit flipped (unsigned order). */
    public static int[] sortableTable(ValueKey key) {
        int[] table = new int[PATTERNS];
        for (int p = 0; p < PATTERNS; p++) {
            table[p] = FloatOrder.sortable(key.valueOfPattern(p)) ^ Integer.MIN_VALUE;
        }
        return table;
    }

    /**
     * The 16-bit patterns of {@code key} in the order {@link DistinctValuesBuilder#fromDense} visits
     * them (by value, NaNs left out): the order in which the kernels compact dense histograms.
     */
    public static int[] denseOrder(ValueKey key) {
        return FloatOrder.of(key).clone();
    }

    /** Per 16-bit pattern, {@link ValueKey#valueOfPattern} of {@code key} (what the kernels fold dense histograms by). */
    public static float[] patternValues(ValueKey key) {
        float[] values = new float[PATTERNS];
        for (int p = 0; p < PATTERNS; p++) {
            values[p] = key.valueOfPattern(p);
        }
        return values;
    }
}
