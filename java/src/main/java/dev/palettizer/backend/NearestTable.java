package dev.palettizer.backend;

import java.util.Arrays;

/**
 * The nearest centroid of a scalar LUT for every float at once, by its upper 16 bits (sign, exponent,
 * 7 mantissa bits): each such bucket is an interval of values, and since the nearest index
 * ({@link JavaBackend#nearest}: the count of midpoints below the value) never decreases as the value
 * grows, a bucket whose two ends map to the same index maps every value in it there. Buckets that hold
 * a midpoint, and those of infinities and NaNs, are marked {@link #AMBIGUOUS}; their values take the
 * search, so indices are the search's, ties included. Building is one merge of the buckets with the
 * midpoints, about as much work as searching 2^14 values.
 */
final class NearestTable {
    /** Table entry of a bucket whose values do not all share one index. */
    static final short AMBIGUOUS = -1;
    private static final int BUCKETS = 1 << 16;
    /** The largest finite positive bucket; 0x7f80 up are +infinity and NaNs. */
    private static final int LAST_FINITE = 0x7f7f;
    /** The sign bit of a bucket. */
    private static final int NEGATIVE = 0x8000;

    private NearestTable() {}

    /**
     * The table for midpoints from {@link JavaBackend#midpoints}, or null when they are not in ascending
     * order (a LUT that is not sorted, or holds NaN): the search is then not monotone and has no shortcut.
     */
    static short[] of(float[] mids) {
        for (int j = 0; j + 1 < mids.length; j++) {
            if (!(mids[j] <= mids[j + 1])) {
                return null;
            }
        }
        short[] table = new short[BUCKETS];
        Arrays.fill(table, LAST_FINITE + 1, NEGATIVE, AMBIGUOUS);
        Arrays.fill(table, NEGATIVE | LAST_FINITE + 1, BUCKETS, AMBIGUOUS);
        // Finite buckets in ascending order of value, negatives from the most negative up, so the count of
        // midpoints below a bucket's ends only grows.
        int below = 0;
        for (int b = NEGATIVE | LAST_FINITE; b >= NEGATIVE; b--) {
            below = fill(table, mids, b, below, b << 16 | 0xffff, b << 16);
        }
        for (int b = 0; b <= LAST_FINITE; b++) {
            below = fill(table, mids, b, below, b << 16, b << 16 | 0xffff);
        }
        return table;
    }

    /** Sets bucket b from its lowest and highest values' bits; returns the count of midpoints below its highest. */
    private static int fill(short[] table, float[] mids, int b, int below, int lowBits, int highBits) {
        float low = Float.intBitsToFloat(lowBits);
        float high = Float.intBitsToFloat(highBits);
        while (below < mids.length && mids[below] < low) {
            below++;
        }
        int first = below;
        while (below < mids.length && mids[below] < high) {
            below++;
        }
        table[b] = below == first ? (short) first : AMBIGUOUS;
        return below;
    }

    /** The bucket of a value. */
    static int bucket(float x) {
        return Float.floatToRawIntBits(x) >>> 16;
    }
}
