package dev.palettizer.dkm;

import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Dense 65,536-entry-per-partition tables of the values route, needed only within one forward or backward
 * call: borrowed from a process-wide pool and returned at the end of the call, so a model's weights share
 * as many sets as calls run at once (1.75 MiB each for one partition) instead of keeping one per weight.
 * Thread-safe: a set is used by one call at a time. Entries of keys a call did not write hold stale values
 * of an earlier call; the passes read only keys present in the weight, which that call wrote.
 */
final class ValueScratch {
    static final int KEYS = 65_536;
    private static final ConcurrentLinkedQueue<ValueScratch> SPARE = new ConcurrentLinkedQueue<>();

    /** Counts per key (forward), or sums of the gradient per key (backward). */
    final double[] dense;
    /** Output value per key (forward), or the gradient's factor A per key (backward). */
    final float[] table;
    /** The gradient's offset B per key (backward). */
    final float[] offset;
    /** The distinct values, in the weight's compact order. */
    final float[] value;
    /** B accumulated in double over one partition's iterations, compact. */
    final double[] bAcc;

    private ValueScratch(int partitions) {
        int n = partitions * KEYS;
        dense = new double[n];
        table = new float[n];
        offset = new float[n];
        value = new float[n];
        bAcc = new double[KEYS];
    }

    private boolean fits(int partitions) {
        return dense.length >= partitions * KEYS;
    }

    static ValueScratch borrow(int partitions) {
        for (ValueScratch s; (s = SPARE.poll()) != null; ) {
            if (s.fits(partitions)) {
                return s;
            }
        }
        return new ValueScratch(partitions);
    }

    static void release(ValueScratch s) {
        SPARE.add(s);
    }
}
