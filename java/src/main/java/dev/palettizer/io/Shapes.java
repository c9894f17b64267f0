package dev.palettizer.io;

/** Shape arithmetic shared by the reader and the writers. */
final class Shapes {
    private Shapes() {}

    /** Product of the dimensions (1 for a scalar); throws ArithmeticException on overflow. */
    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}
