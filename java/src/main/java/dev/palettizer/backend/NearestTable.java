package dev.palettizer.backend;

/**
 * The nearest centroid of a scalar LUT for every float at once, by its upper 16 bits (sign, exponent,
 * 7 mantissa bits): each such bucket is an interval of values, and since the nearest index
 * ({@link JavaBackend#nearest}) never decreases as the value grows, a bucket whose two ends map to the same
 * index maps every value in it there. Buckets that hold a midpoint, and those of infinities and NaNs,
 * are marked {@link #AMBIGUOUS}; their values take the search, so indices are the search's, ties included.
 * Building costs two searches per bucket, so the table pays only for large groups.
 */
final class NearestTable {
    /** Table entry of a bucket whose values do not all share one index. */
    static final short AMBIGUOUS = -1;
    private static final int BUCKETS = 1 << 16;
    /** Exponent bits of a bucket: all ones for infinities and NaNs. */
    private static final int EXPONENT = 0x7f80;

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
        for (int b = 0; b < BUCKETS; b++) {
            if ((b & EXPONENT) == EXPONENT) {
                table[b] = AMBIGUOUS;
                continue;
            }
            // The bucket's two ends: the smallest and largest magnitude with these upper bits.
            int first = JavaBackend.nearest(mids, Float.intBitsToFloat(b << 16));
            int last = JavaBackend.nearest(mids, Float.intBitsToFloat(b << 16 | 0xffff));
            table[b] = first == last ? (short) first : AMBIGUOUS;
        }
        return table;
    }

    /** The bucket of a value. */
    static int bucket(float x) {
        return Float.floatToRawIntBits(x) >>> 16;
    }
}
