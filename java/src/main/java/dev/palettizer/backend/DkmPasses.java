package dev.palettizer.backend;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.IntConsumer;

/**
 * The per-element passes of training-time DKM palettization (the engine in {@code dev.palettizer.dkm}
 * does everything else on k-sized or distinct-value-sized tables). Each pass is data-parallel over the
 * points of a {@link DkmLayout}, reads small per-partition tables, and either writes per-element outputs
 * or reduces into a per-partition array. No pass keeps state between calls (beyond the device copies a
 * {@link #beginStep step} allows); an implementation must give the same bits for any degree of parallelism
 * (see {@link JavaDkmPasses} for the summation order).
 *
 * <p>Table layouts: centroids, e: {@code [partition][k][dim]}; f: {@code [partition][k]}; per-value tables:
 * {@code [partition][65536]} indexed by the value's 16-bit pattern ({@link ValueKeys}).
 */
public interface DkmPasses {

    /** Reduction width per partition of {@link #attentionSums}: S_j (k), M_jd (k*dim), inertia (1). */
    static int sumsWidth(DkmParams p) {
        return p.k() + p.k() * p.dim() + 1;
    }

    /** One forward iteration: per partition with {@code active[p]}, sums of attention, attention-weighted points and inertia. */
    void attentionSums(DkmData w, DkmLayout l, DkmParams p, double[] cIn, boolean[] active, double[] sums);

    /** Final forward, partitions with {@code active[p]} (others untouched): {@code out_i = sum_j a_ij cOut_j} with the attention against {@code cIn}. */
    void attentionApply(DkmData w, DkmData out, DkmLayout l, DkmParams p, double[] cIn, double[] cOut, boolean[] active);

    /** {@code sums[p][j][d] = sum_i a_ij g_id} over partitions with {@code active[p]} (0 elsewhere): the direct gradient of the output centroids. */
    void attentionGradientSums(DkmData w, DkmData g, DkmLayout l, DkmParams p, double[] cIn, boolean[] active, double[] sums);

    /**
     * One backward iteration. Per partition, {@code role[p]}: 0 skip (writes 0 when not accumulating),
     * 1 the update terms only, 2 also the direct output-gradient term (the partition's last iteration).
     * Writes (or adds, when {@code accumulate}) the point gradients to gradIn; reduces dL/dC_in into gcIn.
     */
    void backwardIteration(DkmData w, DkmData g, DkmData gradIn, boolean accumulate, DkmLayout l, DkmParams p,
                           double[] cIn, double[] cOut, double[] e, double[] f, byte[] role, double[] gcIn);

    /** Counts per value and partition; false (counts undefined) as soon as a value has no 16-bit key. Needs dim 1. */
    boolean countValues(DkmData w, DkmLayout l, ValueKeys keys, double[] counts);

    /** Sums of g per value and partition. Needs dim 1 and keys valid for w. */
    void sumByValue(DkmData w, DkmData g, DkmLayout l, ValueKeys keys, double[] sums);

    /** {@code out_i = table[p][key(w_i)]}. */
    void gatherByValue(DkmData w, DkmData out, DkmLayout l, ValueKeys keys, float[] table);

    /** {@code gradIn_i = a[p][key(w_i)] * g_i + b[p][key(w_i)]}. */
    void gatherGradientByValue(DkmData w, DkmData g, DkmData gradIn, DkmLayout l, ValueKeys keys, float[] a, float[] b);

    /** Nearest centroid per point (prune applied to centroid 0, no sparsity mask), written to each of its elements. */
    void assign(DkmData w, DkmLayout l, DkmParams p, double[] c, IndexSink indices);

    /** Index of the first element that is NaN or infinite, or -1. */
    long firstNonFinite(DkmData data);

    /**
     * Opens a step: until {@link #endStep()} the caller promises that {@code w} and {@code g} (null: none) do
     * not change (no pass output may overlap them either), so an implementation may keep a device copy of each
     * and skip re-uploading that exact object (identity, not equality) in the passes between. Every other
     * argument travels per pass as always, and a copy never outlives its step: the next step uploads afresh.
     * The default keeps nothing.
     */
    default void beginStep(DkmData w, DkmData g) {
    }

    /** Ends the step of {@link #beginStep}, also after a failed pass; harmless without one. */
    default void endStep() {
    }

    /**
     * Runs {@code task.accept(b)} for every b in [0, count), possibly in parallel, and returns when all are
     * done: for the engine's per-value table algebra, which cuts its work into blocks fixed by the data (never
     * by the thread count) and adds their partials in block order, so the bits do not depend on this method.
     */
    default void forEachBlock(int count, IntConsumer task) {
        for (int b = 0; b < count; b++) {
            task.accept(b);
        }
    }

    /** The 16-bit patterns that key per-value tables. */
    enum ValueKeys {
        F16, BF16;

        /** The key of x, or -1 when x is not exactly a value of this type. */
        public int key(float x) {
            if (this == F16) {
                short h = Float.floatToFloat16(x);
                return Float.floatToRawIntBits(Float.float16ToFloat(h)) == Float.floatToRawIntBits(x) ? h & 0xffff : -1;
            }
            int bits = Float.floatToRawIntBits(x);
            return (bits & 0xffff) == 0 && !Float.isNaN(x) ? bits >>> 16 : -1;
        }

        public float value(int key) {
            return this == F16 ? Float.float16ToFloat((short) key) : Float.intBitsToFloat(key << 16);
        }
    }

    /** Where {@link #assign} writes indices: an int[] or a little-endian u16 segment, one per element. */
    sealed interface IndexSink {
        void write(long from, int len, int[] src, int srcOff, int srcStride);

        /** Whether only the calling thread may touch it (a confined arena's segment). */
        default boolean threadConfined() {
            return false;
        }

        static IndexSink of(int[] array) {
            return new Ints(array);
        }

        static IndexSink ofU16(MemorySegment segment) {
            return new U16(segment);
        }

        record Ints(int[] array) implements IndexSink {
            @Override
            public void write(long from, int len, int[] src, int srcOff, int srcStride) {
                for (int i = 0; i < len; i++) {
                    array[(int) from + i] = src[srcOff + i * srcStride];
                }
            }
        }

        record U16(MemorySegment segment) implements IndexSink {
            private static final ValueLayout.OfShort LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            private static final Thread OTHER = Thread.ofPlatform().unstarted(() -> { });

            @Override
            public boolean threadConfined() {
                return !segment.isAccessibleBy(OTHER);
            }

            @Override
            public void write(long from, int len, int[] src, int srcOff, int srcStride) {
                for (int i = 0; i < len; i++) {
                    segment.setAtIndex(LE, from + i, (short) src[srcOff + i * srcStride]);
                }
            }
        }
    }
}
