package dev.palettizer.backend;

/** The size rule of packed n-bit indices (LSB first, eight indices in {@code bits} bytes), shared by every backend. */
public final class PackedIndices {
    private PackedIndices() {}

    /** Bytes that {@code count} indices of {@code bits} bits occupy. */
    public static long bytes(long count, int bits) {
        return (count * bits + 7) / 8;
    }

    /** Rejects a packed array whose length does not hold exactly {@code count} indices of {@code bits} bits. */
    public static void requireLength(byte[] packed, long count, int bits) {
        if (packed.length != bytes(count, bits)) {
            throw new IllegalArgumentException(count + " indices of " + bits + " bits need " + bytes(count, bits)
                    + " bytes, got " + packed.length);
        }
    }
}
