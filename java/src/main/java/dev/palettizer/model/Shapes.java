package dev.palettizer.model;

/** Shape arithmetic shared by the model types, the engine, the readers and the writers. */
public final class Shapes {
    private Shapes() {}

    /** Product of the dimensions (1 for a scalar); throws ArithmeticException on overflow. */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}
