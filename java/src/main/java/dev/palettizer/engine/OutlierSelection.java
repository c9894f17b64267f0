package dev.palettizer.engine;

import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.model.SparseOutliers;
import java.util.Arrays;

/**
 * Dense-and-sparse: which elements of a tensor stay out of the clustering, how the clustering is
 * told to ignore them, and how the error statistics account for them.
 *
 * <p>Selection: the {@code count} elements with the largest score, where the score is the element's
 * share of the weighted objective were it not represented at all, {@code s * w^2} with sensitivities
 * and {@code w^2} (largest magnitude) without. Ties go to the lower position, so the choice depends
 * on the values only. The score is rounded to float, and its bit pattern (monotonic for
 * non-negative floats) is radix-selected in two histogram passes of 16 bits, then a third pass
 * collects the positions in ascending order: three sequential reads of the tensor, no sort.
 */
final class OutlierSelection {
    private static final int CHUNK = 1 << 16;
    private static final int RADIX = 1 << 16;

    private OutlierSelection() {}

    /** The {@code count} highest-scoring elements of {@code t} (0 < count <= elements), with their exact values. */
    static SparseOutliers select(TensorInput t, long count) {
        long n = t.values().size();
        if (count <= 0 || count > n) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': " + count + " outliers of " + n + " elements");
        }
        Scores scores = new Scores(t);
        long[] high = new long[RADIX];
        scores.forEach((i, bits) -> high[bits >>> 16]++);
        Bucket top = Bucket.find(high, count);
        long[] low = new long[RADIX];
        scores.forEach((i, bits) -> {
            if (bits >>> 16 == top.bucket) {
                low[bits & 0xFFFF]++;
            }
        });
        Bucket exact = Bucket.find(low, count - top.above);
        int threshold = top.bucket << 16 | exact.bucket;
        long atThreshold = count - top.above - exact.above;

        int k = Math.toIntExact(count);
        long[] positions = new long[k];
        float[] values = new float[k];
        int[] filled = {0};
        long[] tiesTaken = {0};
        float[] valueBuf = new float[CHUNK];
        scores.forEach((i, bits) -> {
            // Scores are unsigned-ordered bit patterns: compare as unsigned to keep +Inf above all.
            int cmp = Integer.compareUnsigned(bits, threshold);
            if (cmp > 0 || (cmp == 0 && tiesTaken[0]++ < atThreshold)) {
                positions[filled[0]++] = i;
            }
        });
        if (filled[0] != k) {
            throw new IllegalStateException("tensor '" + t.name() + "': selected " + filled[0] + " of " + k + " outliers");
        }
        for (int from = 0; from < k; ) {
            // Runs of positions are read in one call each: outliers cluster in a few rows often.
            int to = from + 1;
            while (to < k && positions[to] == positions[to - 1] + 1 && to - from < CHUNK) {
                to++;
            }
            t.values().read(positions[from], valueBuf, 0, to - from);
            System.arraycopy(valueBuf, 0, values, from, to - from);
            from = to;
        }
        return new SparseOutliers(positions, values);
    }

    /** A histogram bucket holding the {@code rank}-th largest value, and how many lie in buckets above it. */
    private record Bucket(int bucket, long above) {
        static Bucket find(long[] histogram, long rank) {
            long above = 0;
            for (int b = histogram.length - 1; b >= 0; b--) {
                if (above + histogram[b] >= rank) {
                    return new Bucket(b, above);
                }
                above += histogram[b];
            }
            throw new IllegalStateException("histogram holds " + above + " elements, rank " + rank + " asked");
        }
    }

    private interface ScoreVisitor {
        void visit(long position, int scoreBits);
    }

    /** The score of each element, streamed in element order. */
    private static final class Scores {
        private final FloatSource values;
        private final FloatSource sensitivities;
        private final float[] w = new float[CHUNK];
        private final float[] s = new float[CHUNK];

        Scores(TensorInput t) {
            values = t.values();
            sensitivities = t.sensitivities();
        }

        void forEach(ScoreVisitor visitor) {
            long n = values.size();
            for (long off = 0; off < n; off += CHUNK) {
                int len = (int) Math.min(CHUNK, n - off);
                values.read(off, w, 0, len);
                if (sensitivities != null) {
                    sensitivities.read(off, s, 0, len);
                }
                for (int i = 0; i < len; i++) {
                    double v = w[i];
                    double score = sensitivities == null ? v * v : s[i] * v * v;
                    // Non-negative, so its float bits order like the scores (+0 folds -0).
                    visitor.visit(off + i, Float.floatToRawIntBits((float) score + 0.0f));
                }
            }
        }
    }

    /**
     * Sensitivities with the outliers' set to zero, so every clustering step (histograms, seeding,
     * Lloyd sums) ignores them; elsewhere the tensor's own sensitivities, or 1 without.
     */
    static FloatSource masked(FloatSource sensitivities, long size, SparseOutliers outliers) {
        return new Masked(sensitivities, size, outliers.positions());
    }

    /** The outliers among elements [from, from + size), their positions counted from {@code from}. */
    static SparseOutliers slice(SparseOutliers outliers, long from, long size) {
        long[] p = outliers.positions();
        int lo = insertionPoint(p, from);
        int hi = insertionPoint(p, from + size);
        long[] positions = new long[hi - lo];
        for (int i = lo; i < hi; i++) {
            positions[i - lo] = p[i] - from;
        }
        return new SparseOutliers(positions, Arrays.copyOfRange(outliers.values(), lo, hi));
    }

    private static int insertionPoint(long[] sorted, long key) {
        int at = Arrays.binarySearch(sorted, key);
        return at >= 0 ? at : -at - 1;
    }

    /** Whether {@code sensitivities} came from {@link #masked}. */
    static boolean masks(FloatSource sensitivities) {
        return sensitivities instanceof Masked;
    }

    private record Masked(FloatSource base, long size, long[] positions) implements FloatSource {
        @Override
        public void read(long offset, float[] dst, int dstOff, int len) {
            if (base != null) {
                base.read(offset, dst, dstOff, len);
            } else {
                Arrays.fill(dst, dstOff, dstOff + len, 1f);
            }
            for (int i = insertionPoint(positions, offset); i < positions.length && positions[i] < offset + len; i++) {
                dst[dstOff + (int) (positions[i] - offset)] = 0f;
            }
        }

        @Override
        public void release() {
            if (base != null) {
                base.release();
            }
        }
    }

    /**
     * {@code assigned} (the backend's statistics over every element, the outliers counted at their
     * nearest LUT entry) with the outliers' squared error taken out, since they are stored exactly;
     * their weighted error is already zero (their sensitivity is masked).
     */
    static ErrorStats withoutOutlierError(ErrorStats assigned, SparseOutliers outliers, GroupLayout layout, float[] lut,
            int lutSize, byte[] indices, float[] channelScales) {
        int cd = layout.clusterDim();
        long rowStride = layout.rowStride();
        double removed = 0;
        for (int i = 0; i < outliers.count(); i++) {
            long p = outliers.positions()[i];
            long row = p / rowStride;
            long inRow = p % rowStride;
            int entry = indices[Math.toIntExact(layout.position(p))] & 0xFF;
            int group = layout.groupOf(row, inRow);
            float scale = channelScales == null ? 1f : channelScales[(int) row];
            float rebuilt = lut[(group * lutSize + entry) * cd + (int) (row % cd)] * scale;
            double err = (double) outliers.values()[i] - rebuilt;
            removed += err * err;
        }
        // Summation order differs from the backend's: clamp the last ulps of cancellation.
        double sse = Math.max(0, assigned.sse() - removed);
        return new ErrorStats(sse, assigned.weightedSse(), assigned.signalEnergy(), assigned.count());
    }
}
