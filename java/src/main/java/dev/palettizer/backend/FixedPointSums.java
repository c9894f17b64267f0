package dev.palettizer.backend;

/**
 * Sums of floats by key that do not depend on the order of addition, so that every thread count and every
 * backend gives the same bits (kernels/common/dkm_core.h, {@code dkm_fixed_*}, is the device side). A key's
 * terms are scaled by 2^shift and rounded to the nearest integer (ties to even); the shift comes from the
 * key's count n and the bits of its largest |g|, so that |term| < 2^(62 - c) with n < 2^c and no partial sum
 * can leave 63 bits. Integer addition is associative, so the total is exact whatever the order, and it is
 * rounded to double once. The rounding of each term costs at most 2^-(shift+1); next to a sequential double
 * sum, whose error grows with the running sums, the bound is lower by about 2^9.
 */
public final class FixedPointSums {
    /** Bits of |g| at and above which g is not finite. */
    private static final int NON_FINITE = 0x7f800000;

    private FixedPointSums() {
    }

    /** The bits of |x| that a key's largest-|g| bits take the maximum of (non-negative ints, ordered as |x|). */
    public static int magnitudeBits(float x) {
        return Float.floatToRawIntBits(x) & 0x7fffffff;
    }

    /** The shift for a key of count {@code n >= 1} whose largest |g| has the bits {@code maxBits} ({@link #scaled}). */
    public static int shift(long n, int maxBits) {
        int e = Math.max(maxBits >>> 23, 1) - 126;
        int c = 64 - Long.numberOfLeadingZeros(n);
        return 62 - e - c;
    }

    /** Whether a key with these largest-|g| bits gets integer terms at all (not all zero, nothing non-finite). */
    public static boolean scaled(int maxBits) {
        return maxBits != 0 && maxBits < NON_FINITE;
    }

    /** g's integer term for a key of the given {@link #shift}. */
    public static long term(float g, int shift) {
        return (long) Math.rint(Math.scalb((double) g, shift));
    }

    /** The key's sum as a double: 0 when every g was 0, NaN when one was not finite. */
    public static double value(long sum, long n, int maxBits) {
        if (maxBits == 0) {
            return 0.0;
        }
        if (maxBits >= NON_FINITE) {
            return Double.NaN;
        }
        return Math.scalb((double) sum, -shift(n, maxBits));
    }
}
