package dev.palettizer.model;

/** Conversions between float and the 16-bit storage types. */
public final class Floats {
    private Floats() {}

    /** bfloat16 bits of x, rounded to nearest even as torch casts (x not NaN). */
    public static short toBf16(float x) {
        int bits = Float.floatToRawIntBits(x);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    public static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }
}
