package dev.palettizer.kmeans;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link SplitKernel} on the Vector API (incubating in JDK 25): loaded only where the JVM resolved
 * {@code jdk.incubator.vector} (see {@link SplitKernels}). IEEE division, multiplication and subtraction are
 * exact per lane, so each candidate's cost has the scalar kernel's bits; costs are +0 to +Inf, never NaN, so
 * their raw bits as longs order as their values and the argmin is integer compares and blends.
 */
final class VectorSplitKernel implements SplitKernel {
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Long> LONGS = VectorSpecies.of(long.class, VectorShape.forBitSize(DOUBLES.vectorBitSize()));
    /** Split points as ints: half the bits, the same lane count. */
    private static final VectorSpecies<Integer> INTS =
            VectorSpecies.of(int.class, VectorShape.forBitSize(DOUBLES.vectorBitSize() / 2));
    static final int LANES = DOUBLES.length();
    private static final LongVector LANE = (LongVector) LONGS.iotaShuffle(0, 1, false).toVector();
    private static final long INFINITY_BITS = Double.doubleToRawLongBits(Double.POSITIVE_INFINITY);
    private static final DoubleVector ZERO = DoubleVector.zero(DOUBLES);

    VectorSplitKernel() {}

    /** Whether this JVM's vectors hold enough doubles to pay: 4 (AVX2) or more. */
    static boolean pays() {
        return LANES >= 4;
    }

    @Override
    public int bestSplit(double[] w, double[] s1, double[] s2, double[] prev, double[] cur, int[] arg,
            int mid, int first, int last) {
        DoubleVector wm = DoubleVector.broadcast(DOUBLES, w[mid]);
        DoubleVector s1m = DoubleVector.broadcast(DOUBLES, s1[mid]);
        DoubleVector s2m = DoubleVector.broadcast(DOUBLES, s2[mid]);
        int best;
        long bestBits;
        if (last - first < LANES) {
            // Most windows fit one vector: its lanes past the window priced as Long.MAX_VALUE, one reduction.
            LongVector bits = costBits(w, s1, s2, prev, wm, s1m, s2m, first)
                    .blend(Long.MAX_VALUE, LANE.compare(VectorOperators.GT, last - first));
            long min = bits.reduceLanes(VectorOperators.MIN);
            bestBits = Math.min(min, INFINITY_BITS);
            best = min >= INFINITY_BITS ? first : first + bits.compare(VectorOperators.EQ, min).firstTrue();
        } else {
            // Each lane keeps its own first cheapest; the lowest index among the lanes' equal minima is the first overall.
            LongVector laneBits = LongVector.broadcast(LONGS, INFINITY_BITS);
            LongVector laneBest = LongVector.broadcast(LONGS, first);
            for (int i = first; i <= last; i += LANES) {
                LongVector bits = costBits(w, s1, s2, prev, wm, s1m, s2m, i);
                LongVector index = LANE.add(i);
                VectorMask<Long> better = bits.lt(laneBits).and(index.compare(VectorOperators.LE, last));
                laneBits = laneBits.blend(bits, better);
                laneBest = laneBest.blend(index, better);
            }
            bestBits = laneBits.reduceLanes(VectorOperators.MIN);
            best = (int) laneBest.reduceLanes(VectorOperators.MIN, laneBits.compare(VectorOperators.EQ, bestBits));
        }
        cur[mid] = Double.longBitsToDouble(bestBits);
        if (arg != null) {
            arg[mid] = best;
        }
        return best;
    }

    /** The raw bits of splits i .. i + LANES - 1 priced for the column whose sums are wm, s1m, s2m. */
    private static LongVector costBits(double[] w, double[] s1, double[] s2, double[] prev,
            DoubleVector wm, DoubleVector s1m, DoubleVector s2m, int i) {
        DoubleVector dw = wm.sub(DoubleVector.fromArray(DOUBLES, w, i));
        DoubleVector d1 = s1m.sub(DoubleVector.fromArray(DOUBLES, s1, i));
        DoubleVector cost = s2m.sub(DoubleVector.fromArray(DOUBLES, s2, i)).sub(d1.mul(d1).div(dw));
        return DoubleVector.fromArray(DOUBLES, prev, i).add(clamp(cost)).reinterpretAsLongs();
    }

    /** cost > 0 ? cost : +0, as the scalar kernel: NaN and -0 become +0 (Math.max would keep a NaN). */
    private static DoubleVector clamp(DoubleVector cost) {
        return ZERO.blend(cost, cost.compare(VectorOperators.GT, 0.0));
    }

    /** Four vectors of splits: measured best on 8 lanes (AVX-512) among 2, 4, 6, 8 and 12. */
    @Override
    public int windowWidth() {
        return 4 * LANES;
    }

    /**
     * The lanes run over columns, the loop over the window's splits: no reduction at all, and each split's sums
     * are scalars broadcast to every column (addition commutes exactly, so clamp + prev[i] is prev[i] + clamp).
     */
    @Override
    public void fillWindow(double[] w, double[] s1, double[] s2, double[] prev, double[] cur, int[] best,
            int lo, int hi, int first, int last) {
        for (int j0 = lo; j0 <= hi; j0 += LANES) {
            DoubleVector wm = DoubleVector.fromArray(DOUBLES, w, j0);
            DoubleVector s1m = DoubleVector.fromArray(DOUBLES, s1, j0);
            DoubleVector s2m = DoubleVector.fromArray(DOUBLES, s2, j0);
            LongVector column = LANE.add(j0);
            LongVector laneBits = LongVector.broadcast(LONGS, INFINITY_BITS);
            LongVector laneBest = LongVector.broadcast(LONGS, first);
            int lastHere = Math.min(last, Math.min(hi, j0 + LANES - 1) - 1);
            for (int i = first; i <= lastHere; i++) {
                DoubleVector dw = wm.sub(w[i]);
                DoubleVector d1 = s1m.sub(s1[i]);
                DoubleVector cost = s2m.sub(s2[i]).sub(d1.mul(d1).div(dw));
                LongVector bits = clamp(cost).add(prev[i]).reinterpretAsLongs();
                VectorMask<Long> better = bits.lt(laneBits).and(column.compare(VectorOperators.GT, i));
                laneBits = laneBits.blend(bits, better);
                laneBest = laneBest.blend(i, better);
            }
            VectorMask<Long> inRange = column.compare(VectorOperators.LE, hi);
            laneBits.reinterpretAsDoubles().intoArray(cur, j0, inRange.cast(DOUBLES));
            ((IntVector) laneBest.convertShape(VectorOperators.L2I, INTS, 0)).intoArray(best, j0, inRange.cast(INTS));
        }
    }

    @Override
    public int padding() {
        return LANES;
    }
}
