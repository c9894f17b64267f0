package dev.palettizer.backend;

import java.util.Arrays;

/** The 16-bit fp16 and bf16 patterns sorted by the value they encode (NaNs left out). */
public final class FloatOrder {
    static final int[] FP16 = sorted(ValueKey.exact(ValueKey.Kind.FP16));
    static final int[] BF16 = sorted(ValueKey.exact(ValueKey.Kind.BF16));

    private FloatOrder() {}

    static int[] of(ValueKey key) {
        return key.kind() == ValueKey.Kind.BF16 ? BF16 : FP16;
    }

    private static int[] sorted(ValueKey key) {
        long[] packed = new long[65536];
        int n = 0;
        for (int p = 0; p < 65536; p++) {
            float v = key.valueOfPattern(p);
            if (!Float.isNaN(v)) {
                packed[n++] = ((long) sortable(v) << 32) | p;
            }
        }
        long[] used = Arrays.copyOf(packed, n);
        Arrays.sort(used);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = (int) (used[i] & 0xffff);
        }
        return order;
    }

    /** An int whose signed order is the float's order (for non-NaN floats). */
    public static int sortable(float v) {
        int bits = Float.floatToRawIntBits(v);
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    static float fromSortable(int s) {
        return Float.intBitsToFloat(s ^ ((s >> 31) & 0x7fffffff));
    }
}
