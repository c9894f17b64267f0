package dev.palettizer.backend;

import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.GroupLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.function.Function;

/**
 * The pure-Java reference backend, always available. Work is cut into fixed slices of each group
 * (independent of the worker count) and partial results are combined in slice order, so results
 * are the same bits for any number of workers.
 */
public final class JavaBackend implements Backend {
    /** Vectors read per bulk read: small enough for L1/L2, large enough to amortise the call. */
    static final int PIECE = 4096;
    /**
     * Vectors per parallel task. Sums are accumulated per slice in element order and the slices
     * combined in order; accelerated backends use the same slices to give the same doubles.
     */
    public static final long SLICE = 1 << 20;
    /**
     * Scalar groups at least this large are assigned through a {@link NearestTable}: building it costs
     * about as much as searching 2^14 values, a small fraction of a group this size.
     */
    static final long NEAREST_TABLE_MIN = 1 << 16;
    /** Groups at least this large use a dense 65,536-bin histogram rather than a sort. */
    public static final long DENSE_HISTOGRAM_MIN = 1 << 15;
    /**
     * Test-only: how many times {@link #assign} does its pass (default 1). Setting the system property
     * {@value #ASSIGN_WORK_FACTOR_PROPERTY} to 2 doubles the work of a hot path, which the performance
     * gate must then reject (benchmarks/README.md shows that run). Never set it otherwise.
     */
    static final String ASSIGN_WORK_FACTOR_PROPERTY = "palettizer.test.assignWorkFactor";
    private static final int ASSIGN_WORK_FACTOR = Math.max(1, Integer.getInteger(ASSIGN_WORK_FACTOR_PROPERTY, 1));

    private final ForkJoinPool pool;
    private JavaDkmPasses dkm;

    /** Runs its work in {@code pool} (shared with the engine; not owned). */
    public JavaBackend(ForkJoinPool pool) {
        this.pool = pool;
    }

    @Override
    public String name() {
        return "java";
    }

    /** {@link JavaDkmPasses} with as many threads as the pool's parallelism. */
    @Override
    public synchronized DkmPasses dkmPasses() {
        if (dkm == null) {
            dkm = new JavaDkmPasses(pool.getParallelism());
        }
        return dkm;
    }

    @Override
    public synchronized void close() {
        if (dkm != null) {
            dkm.close();
            dkm = null;
        }
    }

    private record Slice(int group, long from, long to) {}

    private static List<Slice> slices(GroupLayout layout, long sliceSize) {
        return slices(layout, sliceSize, 0, layout.groups());
    }

    private static List<Slice> slices(GroupLayout layout, long sliceSize, int fromGroup, int toGroup) {
        List<Slice> out = new ArrayList<>();
        long perGroup = layout.vectorsPerGroup();
        for (int g = fromGroup; g < toGroup; g++) {
            for (long from = 0; from < perGroup; from += sliceSize) {
                out.add(new Slice(g, from, Math.min(perGroup, from + sliceSize)));
            }
        }
        return out;
    }

    /** Most small items (groups, slices) one task takes in turn, reusing its buffers. */
    private static final int RUN_MAX = 16;

    /** Items per task for {@code items} small items: at most {@link #RUN_MAX}, about 8 tasks per worker or more. */
    private int perTask(int items) {
        return Math.clamp(items / (8L * pool.getParallelism()), 1, RUN_MAX);
    }

    /** Consecutive items (groups, slices) in runs of {@link #perTask} items. */
    private <T> List<List<T>> runs(List<T> items) {
        int perTask = perTask(items.size());
        List<List<T>> runs = new ArrayList<>();
        for (int i = 0; i < items.size(); i += perTask) {
            runs.add(items.subList(i, Math.min(items.size(), i + perTask)));
        }
        return runs;
    }

    private <T, R> List<R> parallel(List<T> items, Function<T, R> work) {
        List<ForkJoinTask<R>> tasks = items.stream().map(i -> ForkJoinTask.adapt(() -> work.apply(i))).toList();
        if (ForkJoinTask.inForkJoinPool()) {
            ForkJoinTask.invokeAll(tasks);
        } else {
            pool.invoke(ForkJoinTask.adapt(() -> ForkJoinTask.invokeAll(tasks)));
        }
        return tasks.stream().map(ForkJoinTask::join).toList();
    }

    // ---------------------------------------------------------------- histogram

    @Override
    public WeightedValues[] histogram(ClusterInput in, ValueKey key, int fromGroup, int toGroup) {
        GroupLayout layout = in.layout();
        if (layout.clusterDim() != 1) {
            throw new IllegalArgumentException("histogram is for scalar clustering (cluster_dim 1)");
        }
        if (fromGroup < 0 || toGroup > layout.groups() || fromGroup > toGroup) {
            throw new IllegalArgumentException("groups [" + fromGroup + ", " + toGroup + ") outside [0, "
                    + layout.groups() + ")");
        }
        if (key.sixteenBit() && layout.vectorsPerGroup() >= DENSE_HISTOGRAM_MIN) {
            List<Slice> slices = slices(layout, SLICE, fromGroup, toGroup);
            List<double[]> partial = parallel(slices, s -> denseHistogram(in, key, s));
            // Each group's slices, listed group by group, in order: [first[g], first[g + 1]).
            int[] first = new int[toGroup - fromGroup + 1];
            for (int i = 0; i < slices.size(); i++) {
                first[slices.get(i).group() - fromGroup + 1] = i + 1;
            }
            // Groups folded in parallel (thousands of small groups would otherwise fold on one thread); a
            // group's first slice takes the later ones' counts in order (0 + h is h, so a one-slice group's
            // histogram is its total as it stands).
            List<WeightedValues> folded = parallel(groupList(fromGroup, toGroup), g -> {
                int from = first[g - fromGroup];
                double[] total = partial.get(from);
                for (int i = from + 1; i < first[g - fromGroup + 1]; i++) {
                    addInto(total, partial.get(i));
                }
                return DistinctValuesBuilder.fromDense(total, key);
            });
            return folded.toArray(WeightedValues[]::new);
        }
        // Runs of groups per task, each reusing its buffers: per-channel granularity has thousands of small groups.
        WeightedValues[] out = new WeightedValues[toGroup - fromGroup];
        parallel(runs(groupList(fromGroup, toGroup)), run -> {
            SortedHistogram h = new SortedHistogram(in, key);
            for (int g : run) {
                out[g - fromGroup] = h.of(g);
            }
            return null;
        });
        return out;
    }

    private static List<Integer> groupList(int from, int to) {
        List<Integer> groups = new ArrayList<>(to - from);
        for (int g = from; g < to; g++) {
            groups.add(g);
        }
        return groups;
    }

    /** {@code total[p] += h[p]} for every bin (a per-slice kernel, see {@link #countPatterns}). */
    private static void addInto(double[] total, double[] h) {
        for (int p = 0; p < total.length; p++) {
            total[p] += h[p];
        }
    }

    private static double[] denseHistogram(ClusterInput in, ValueKey key, Slice s) {
        double[] hist = new double[65536];
        PieceReader r = new PieceReader(in, PIECE);
        PieceCursor c = new PieceCursor(in.layout(), s.group(), s.from(), s.to(), PIECE);
        while (c.next()) {
            r.read(c);
            countPatterns(key, r.x, r.w, c.length, hist);
        }
        return hist;
    }

    /**
     * {@code hist[pattern of x[i]] += w[i]} for {@code i < length}: one piece. The passes call a small kernel like
     * this once per piece, rather than looping over a whole slice with the piece read inlined, so that a cold run's
     * C2 compiles a few small methods early (by invocation count) instead of each pass twice as one large unit.
     */
    private static void countPatterns(ValueKey key, float[] x, float[] w, int length, double[] hist) {
        for (int i = 0; i < length; i++) {
            hist[key.patternOf(x[i])] += w[i];
        }
    }

    /** The sorted histograms of one group after another, with the read buffers and sort arrays reused. */
    private static final class SortedHistogram {
        private final ClusterInput in;
        private final ValueKey key;
        private final PieceReader reader;
        private final float[] patternValues;
        private final long[] entries;
        private final long[] scratch;

        SortedHistogram(ClusterInput in, ValueKey key) {
            this.in = in;
            this.key = key;
            reader = new PieceReader(in, PIECE);
            patternValues = key.sixteenBit() ? key.patternValues() : null;
            entries = new long[Math.toIntExact(in.layout().vectorsPerGroup())];
            scratch = entries.length > SLICE ? null : new long[entries.length];
        }

        WeightedValues of(int group) {
            GroupLayout layout = in.layout();
            PieceCursor c = new PieceCursor(layout, group, 0, layout.vectorsPerGroup(), PIECE);
            int n = 0;
            while (c.next()) {
                reader.read(c);
                n = sortEntries(key, patternValues, reader.x, reader.w, c.length, entries, n);
            }
            if (scratch == null) {
                Arrays.parallelSort(entries);
            } else {
                LongRadixSort.sort(entries, scratch);
            }
            // The builder's size: distinct values as it folds them (== makes -0 and +0, next to each other here, one).
            int keys = 0;
            float last = 0;
            for (int i = 0; i < entries.length; i++) {
                float k = FloatOrder.fromSortable((int) (entries[i] >> 32));
                keys += i == 0 || k != last ? 1 : 0;
                last = k;
            }
            DistinctValuesBuilder out = new DistinctValuesBuilder(keys);
            for (long e : entries) {
                out.add(FloatOrder.fromSortable((int) (e >> 32)), Float.intBitsToFloat((int) e));
            }
            return out.build();
        }

        /** Appends one piece's entries at {@code entries[n]}; returns the new count (a per-piece kernel). */
        private static int sortEntries(ValueKey key, float[] patternValues, float[] x, float[] w, int length,
                                       long[] entries, int n) {
            for (int i = 0; i < length; i++) {
                float k = patternValues == null ? x[i] : patternValues[key.patternOf(x[i])];
                // Key in the high half, weight bits in the low half: one primitive sort, and equal
                // keys' weights summed in a fixed order.
                entries[n++] = ((long) FloatOrder.sortable(k) << 32) | (Float.floatToRawIntBits(w[i]) & 0xffffffffL);
            }
            return n;
        }
    }

    // ---------------------------------------------------------------- assignment

    @Override
    public ErrorStats assign(ClusterInput in, float[] lut, int lutSize, byte[] indices) {
        GroupLayout layout = in.layout();
        int perGroup = lutSize * layout.clusterDim();
        if (lut.length != layout.groups() * perGroup) {
            throw new IllegalArgumentException("LUT holds " + lut.length + " floats, layout needs "
                    + layout.groups() * perGroup);
        }
        List<short[]> tables = layout.clusterDim() == 1 && layout.vectorsPerGroup() >= NEAREST_TABLE_MIN
                ? parallel(groupList(0, layout.groups()), g -> NearestTable.of(midpoints(lut, g * lutSize, lutSize)))
                : null;
        List<ErrorStats> parts = List.of();
        for (int pass = 0; pass < ASSIGN_WORK_FACTOR; pass++) {
            // Runs of slices per task sharing one reader: per-channel granularity has thousands of small slices.
            List<List<Slice>> runs = runs(slices(layout, SLICE));
            parts = parallel(runs, run -> {
                PieceReader r = new PieceReader(in, PIECE);
                List<ErrorStats> out = new ArrayList<>(run.size());
                for (Slice s : run) {
                    short[] table = tables == null ? null : tables.get(s.group());
                    out.add(layout.clusterDim() == 1
                            ? assignScalar(in, lut, lutSize, indices, s, table, r)
                            : assignVectors(in, lut, lutSize, indices, s, r));
                }
                return out;
            }).stream().flatMap(List::stream).toList();
        }
        ErrorStats total = ErrorStats.ZERO;
        for (ErrorStats p : parts) {
            total = total.plus(p);
        }
        return total;
    }

    /** Midpoints between consecutive sorted centroids, padded with +Inf to lutSize entries. */
    static float[] midpoints(float[] lut, int base, int lutSize) {
        float[] mids = new float[lutSize];
        for (int j = 0; j < lutSize - 1; j++) {
            mids[j] = (lut[base + j] + lut[base + j + 1]) * 0.5f;
        }
        mids[lutSize - 1] = Float.POSITIVE_INFINITY;
        return mids;
    }

    /** Number of midpoints below x, by branch-free binary search: the nearest centroid's index. */
    static int nearest(float[] mids, float x) {
        int idx = 0;
        for (int half = mids.length >> 1; half > 0; half >>= 1) {
            idx += x > mids[idx + half - 1] ? half : 0;
        }
        return idx;
    }

    /** Nearest-entry indices and error sums of one slice; {@code table} (null: search every value) from {@link NearestTable}. */
    private static ErrorStats assignScalar(ClusterInput in, float[] lut, int lutSize, byte[] indices, Slice s,
                                           short[] table, PieceReader r) {
        int base = s.group() * lutSize;
        float[] mids = midpoints(lut, base, lutSize);
        float[] scaled = new float[lutSize];
        double[] sums = new double[3]; // sse, wsse, energy: carried from piece to piece, added in element order
        PieceCursor c = new PieceCursor(in.layout(), s.group(), s.from(), s.to(), PIECE);
        while (c.next()) {
            r.read(c);
            // The piece's entries times its channel's scale: the same float products the loop would form per element.
            float scale = r.scale(0);
            for (int j = 0; j < lutSize; j++) {
                scaled[j] = lut[base + j] * scale;
            }
            assignPiece(r.x, r.raw, r.s, c.length, table, mids, scaled, indices, (int) c.position, sums);
        }
        return new ErrorStats(sums[0], sums[1], sums[2], s.to() - s.from());
    }

    /** One piece of {@link #assignScalar} (a per-piece kernel, see {@link #countPatterns}); adds to {@code sums}. */
    private static void assignPiece(float[] x, float[] raw, float[] s, int length, short[] table, float[] mids,
                                    float[] scaled, byte[] indices, int pos, double[] sums) {
        double sse = sums[0];
        double wsse = sums[1];
        double energy = sums[2];
        for (int i = 0; i < length; i++) {
            int idx = table == null ? NearestTable.AMBIGUOUS : table[NearestTable.bucket(x[i])];
            if (idx < 0) {
                idx = nearest(mids, x[i]);
            }
            indices[pos + i] = (byte) idx;
            double v = raw[i];
            double err = v - scaled[idx];
            sse += err * err;
            wsse += s[i] * err * err;
            energy += v * v;
        }
        sums[0] = sse;
        sums[1] = wsse;
        sums[2] = energy;
    }

    private static ErrorStats assignVectors(ClusterInput in, float[] lut, int lutSize, byte[] indices, Slice s,
                                            PieceReader r) {
        int cd = in.layout().clusterDim();
        int base = s.group() * lutSize * cd;
        double sse = 0;
        double wsse = 0;
        double energy = 0;
        PieceCursor c = new PieceCursor(in.layout(), s.group(), s.from(), s.to(), PIECE);
        while (c.next()) {
            r.read(c);
            int pos = (int) c.position;
            for (int i = 0; i < c.length; i++) {
                int best = 0;
                float bestDist = Float.POSITIVE_INFINITY;
                for (int k = 0; k < lutSize; k++) {
                    float dist = 0;
                    for (int t = 0; t < cd; t++) {
                        float d = r.x[t * PIECE + i] - lut[base + k * cd + t];
                        dist += r.w[t * PIECE + i] * d * d;
                    }
                    if (dist < bestDist) {
                        bestDist = dist;
                        best = k;
                    }
                }
                indices[pos + i] = (byte) best;
                for (int t = 0; t < cd; t++) {
                    int e = t * PIECE + i;
                    double v = r.raw[e];
                    double err = v - lut[base + best * cd + t] * r.scale(t);
                    sse += err * err;
                    wsse += r.s[e] * err * err;
                    energy += v * v;
                }
            }
        }
        return new ErrorStats(sse, wsse, energy, (s.to() - s.from()) * cd);
    }

    @Override
    public CentroidSums centroidSums(ClusterInput in, byte[] indices, int lutSize) {
        GroupLayout layout = in.layout();
        int cd = layout.clusterDim();
        int perGroup = lutSize * cd;
        List<Slice> slices = slices(layout, SLICE);
        List<double[][]> parts = parallel(slices, s -> {
            double[] sums = new double[perGroup];
            double[] weights = new double[perGroup];
            PieceReader r = new PieceReader(in, PIECE);
            PieceCursor c = new PieceCursor(layout, s.group(), s.from(), s.to(), PIECE);
            while (c.next()) {
                r.read(c);
                int pos = (int) c.position;
                for (int i = 0; i < c.length; i++) {
                    int entry = (indices[pos + i] & 0xff) * cd;
                    for (int t = 0; t < cd; t++) {
                        float w = r.w[t * PIECE + i];
                        sums[entry + t] += (double) w * r.x[t * PIECE + i];
                        weights[entry + t] += w;
                    }
                }
            }
            return new double[][] {sums, weights};
        });
        double[] sums = new double[layout.groups() * perGroup];
        double[] weights = new double[sums.length];
        // Combined in slice order, so the sums do not depend on which thread finished first.
        for (int i = 0; i < slices.size(); i++) {
            int base = slices.get(i).group() * perGroup;
            for (int j = 0; j < perGroup; j++) {
                sums[base + j] += parts.get(i)[0][j];
                weights[base + j] += parts.get(i)[1][j];
            }
        }
        return new CentroidSums(sums, weights);
    }

    // ---------------------------------------------------------------- packing and reconstruction

    private List<long[]> ranges(long count, long step) {
        List<long[]> out = new ArrayList<>();
        for (long from = 0; from < count; from += step) {
            out.add(new long[] {from, Math.min(count, from + step)});
        }
        return out;
    }

    /** Eight indices as one little-endian long, and the packed bytes of eight indices written as one int/long. */
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    @Override
    public byte[] pack(byte[] indices, long count, int bits) {
        byte[] out = new byte[Math.toIntExact(PackedIndices.bytes(count, bits))];
        // Eight indices fill exactly `bits` bytes, so ranges that start on a multiple of 8 never share a byte.
        parallel(ranges(count, SLICE), range -> {
            int from = (int) range[0];
            int to = (int) range[1];
            int whole = from + (to - from) / 8 * 8;
            for (int i = from; i < whole; i += 8) {
                long acc = packEight((long) LONG_LE.get(indices, i), bits);
                int off = i / 8 * bits;
                for (int b = 0; b < bits; b++) {
                    out[off + b] = (byte) (acc >>> (8 * b));
                }
            }
            if (whole < to) {
                long acc = 0;
                for (int j = 0; j < to - whole; j++) {
                    acc |= (long) (indices[whole + j] & 0xff) << (j * bits);
                }
                int off = whole / 8 * bits;
                for (int b = 0; b < out.length - off; b++) {
                    out[off + b] = (byte) (acc >>> (8 * b));
                }
            }
            return null;
        });
        return out;
    }

    /**
     * Eight indices of {@code bits} bits, one per byte of {@code eight} (little-endian), packed LSB first
     * into the low {@code 8 * bits} bits: byte pairs, then 16-bit pairs, then the two halves are joined.
     */
    static long packEight(long eight, int bits) {
        long x = (eight & 0x00ff00ff00ff00ffL) | ((eight >>> 8) & 0x00ff00ff00ff00ffL) << bits;
        x = (x & 0x0000ffff0000ffffL) | ((x >>> 16) & 0x0000ffff0000ffffL) << (2 * bits);
        return (x & 0xffffffffL) | (x >>> 32) << (4 * bits);
    }

    @Override
    public byte[] unpack(byte[] packed, long count, int bits) {
        PackedIndices.requireLength(packed, count, bits);
        byte[] out = new byte[Math.toIntExact(count)];
        int mask = (1 << bits) - 1;
        parallel(ranges(count, SLICE), range -> {
            for (long i = range[0]; i < range[1]; i += 8) {
                int off = (int) (i / 8 * bits);
                int bytes = Math.min(bits, packed.length - off);
                long acc = 0;
                for (int b = 0; b < bytes; b++) {
                    acc |= (long) (packed[off + b] & 0xff) << (8 * b);
                }
                int n = (int) Math.min(8, count - i);
                for (int j = 0; j < n; j++) {
                    out[(int) i + j] = (byte) ((acc >>> (j * bits)) & mask);
                }
            }
            return null;
        });
        return out;
    }

    @Override
    public void reconstruct(GroupLayout layout, float[] lut, int lutSize, byte[] indices, float[] channelScales,
                            float[] out) {
        Backend.checkReconstructOutput(layout, out);
        int cd = layout.clusterDim();
        int rowStride = Math.toIntExact(layout.rowStride());
        long rowBlocks = layout.rows() / cd;
        long blocksPerTask = Math.max(1, SLICE / Math.max(1, rowStride));
        // Offsets within a row that share a group: the whole row, or along axis 1 runs of group_size * inner.
        int run = layout.axis() == 1 ? Math.toIntExact(layout.groupSize() * layout.inner()) : rowStride;
        parallel(ranges(rowBlocks, blocksPerTask), range -> {
            for (int rb = (int) range[0]; rb < range[1]; rb++) {
                int row = rb * cd;
                for (int o = 0; o < rowStride; o += run) {
                    int base = layout.groupOf(row, o) * lutSize * cd;
                    int length = Math.min(run, rowStride - o);
                    for (int t = 0; t < cd; t++) {
                        float scale = channelScales == null ? 1f : channelScales[row + t];
                        decode(lut, base + t, cd, scale, indices, rb * rowStride + o, out, (row + t) * rowStride + o,
                                length);
                    }
                }
            }
            return null;
        });
    }

    /** out[to + i] = lut[base + index[from + i] * stride] * scale for i < length. */
    private static void decode(float[] lut, int base, int stride, float scale, byte[] indices, int from, float[] out,
                               int to, int length) {
        if (scale == 1f) {
            // x * 1f is x: the same bits without the multiply.
            for (int i = 0; i < length; i++) {
                out[to + i] = lut[base + (indices[from + i] & 0xff) * stride];
            }
        } else {
            for (int i = 0; i < length; i++) {
                out[to + i] = lut[base + (indices[from + i] & 0xff) * stride] * scale;
            }
        }
    }
}
