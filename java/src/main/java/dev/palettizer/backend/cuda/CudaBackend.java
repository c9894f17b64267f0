package dev.palettizer.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.BackendException;
import dev.palettizer.backend.CentroidSums;
import dev.palettizer.backend.ClusterInput;
import dev.palettizer.backend.DistinctValuesBuilder;
import dev.palettizer.backend.DkmPasses;
import dev.palettizer.backend.JavaBackend;
import dev.palettizer.backend.KernelKeys;
import dev.palettizer.backend.LayoutWalk;
import dev.palettizer.backend.LayoutWalk.Chunk;
import dev.palettizer.backend.PackedIndices;
import dev.palettizer.backend.ValueKey;
import dev.palettizer.backend.WeightedValues;
import dev.palettizer.backend.cuda.Feed.ChunkData;
import dev.palettizer.backend.cuda.Lane.Slot;
import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.GroupLayout;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;

/**
 * The {@link Backend} steps as CUDA kernels (kernels/cuda/palettizer.cu over the core shared with
 * OpenCL, kernels/common/palettizer_core.h), through JCuda's driver API on one device's primary
 * context. Gives the Java reference's indices, histograms and centroid sums bit for bit; error
 * statistics agree up to the order of their final additions.
 *
 * <p>Every step covers all groups of a tensor in one launch per chunk. Tensors stream from the host
 * in chunks of at most {@link #STREAM_CHUNK_ELEMENTS} elements through two lanes (a stream each,
 * with its own pinned staging and device buffers): the host gathers chunk i + 1 and its copies run
 * while chunk i computes; kernels that add into shared accumulators are ordered chunk after chunk,
 * so sums keep Java's order. The device budget (default: three quarters of the memory free when the
 * backend is made) bounds the chunks and the per-group accumulators of one batch of groups.
 * Buffers grow only, are reused across calls and tensors, and are freed on {@link #close()}.
 * Calls are serialised; each makes the context current in its thread and waits for both lanes to be
 * idle first (an earlier call that failed midway may have left work in flight). As on OpenCL, the
 * histogram of fp32 keys over groups of at least {@link JavaBackend#DENSE_HISTOGRAM_MIN} values
 * runs on the host (kernels/README.md).
 */
public final class CudaBackend implements Backend {
    /** Threads per block: the PAL_WG the fatbin was built with (kernels/cuda/dialect.cuh). */
    static final int BLOCK = 256;
    /** Elements per streamed chunk: 64 MiB per float buffer, small enough that copies and compute overlap. */
    static final long STREAM_CHUNK_ELEMENTS = 1L << 24;
    /** Pinned staging of one download stays under a direct buffer's 2 GiB. */
    private static final long MAX_BATCH_BYTES = 1L << 30;
    private static final int BINS = KernelKeys.PATTERNS;
    /** Positions per thread of the assignment kernel: PAL_ASSIGN_ITEMS of kernels/common/palettizer_core.h. */
    static final int ASSIGN_ITEMS = 16;
    /** Blocks whose error partials the device sums (in block order) before they go to the host. */
    static final int PARTIALS_PER_SUM = 256;

    private final String deviceName;
    private final int ordinal;
    private CudaDkmPasses dkm;
    private final CuContext cu;
    private final Kernels kernels;
    private final Lane[] lanes;
    private final JavaBackend host;
    private final ForkJoinPool workers;
    private final long budget;
    private ValueKey sortableKey;
    private ValueKey orderKey;
    private long orderLength;
    private boolean closed;

    /**
     * @param ordinal the CUDA device
     * @param workers the engine's pool: host-side gathers and the fp32 histogram run there
     * @param budgetBytes device memory for the chunks in flight and one batch's accumulators; 0 for the default
     */
    CudaBackend(int ordinal, String deviceName, ForkJoinPool workers, long budgetBytes) {
        if (budgetBytes != 0 && budgetBytes < 1024) {
            throw new IllegalArgumentException("device buffer budget must be at least 1 KiB, got " + budgetBytes);
        }
        this.deviceName = deviceName;
        this.ordinal = ordinal;
        this.workers = workers;
        this.host = new JavaBackend(workers);
        this.cu = new CuContext(ordinal);
        Kernels k = null;
        Lane[] l = new Lane[2];
        try {
            k = Kernels.load(Fatbin.bytes());
            for (int i = 0; i < l.length; i++) {
                l[i] = new Lane(i);
            }
            this.budget = budgetBytes != 0 ? budgetBytes : cu.memoryInfo()[0] / 4 * 3;
        } catch (RuntimeException e) {
            for (Lane lane : l) {
                if (lane != null) {
                    lane.close();
                }
            }
            if (k != null) {
                k.close();
            }
            cu.close();
            throw e;
        }
        this.kernels = k;
        this.lanes = l;
    }

    @Override
    public String name() {
        return "cuda";
    }

    /** {@link CudaDkmPasses} on this backend's device (its own module and stream on the same primary context). */
    @Override
    public synchronized DkmPasses dkmPasses() {
        if (closed) {
            throw new IllegalStateException("CUDA backend used after close");
        }
        if (dkm == null) {
            dkm = new CudaDkmPasses(ordinal, workers.getParallelism());
        }
        return dkm;
    }

    /** The device this backend runs on, as the driver names it. */
    public String deviceName() {
        return deviceName;
    }

    /**
     * Every call starts here: both lanes idle, so that no kernel of an earlier call that failed
     * midway (with chunks still in flight on the other lane) writes into buffers this call reuses.
     */
    private void enter() {
        if (closed) {
            throw new IllegalStateException("CUDA backend used after close");
        }
        cu.makeCurrent();
        for (Lane lane : lanes) {
            lane.idle();
        }
    }

    static long blocks(long items) {
        return (items + BLOCK - 1) / BLOCK;
    }

    private static long ceil(long a, long b) {
        return (a + b - 1) / b;
    }

    /** The lane that holds the buffers shared by all chunks of a call (LUT, scales, accumulators). */
    private Lane shared() {
        return lanes[0];
    }

    private static void sync(Lane lane) {
        lane.finish();
        lane.await();
    }

    // ---------------------------------------------------------------- sizes

    /** Positions per chunk for steps holding raw, sensitivities, x and w (16 bytes per component) and an index, per lane. */
    private long chunkPositions(GroupLayout l) {
        long perLane = budget / (4L * lanes.length);
        return Math.max(8, Math.min(STREAM_CHUNK_ELEMENTS / l.clusterDim(), perLane / (16L * l.clusterDim() + 1)));
    }

    /** Groups per batch when each needs {@code bytesPerGroup} of accumulators: as many as half the budget holds, at least one. */
    private int groupsPerBatch(GroupLayout l, long bytesPerGroup) {
        return (int) Math.clamp(Math.min(budget / 2, MAX_BATCH_BYTES) / bytesPerGroup, 1, l.groups());
    }

    // ---------------------------------------------------------------- running chunks through the lanes

    /** One step's work on a chunk: host staging, copies in, kernels, and host work once the chunk is done. */
    private interface ChunkStep {
        /** Host work before the chunk's copies (fills the lane's staging); overlaps the other lane. */
        void stage(Lane lane, Chunk c);

        /** Enqueues the chunk's copies to the device; these never wait for the other lane. */
        ChunkData upload(Lane lane, Chunk c);

        /** Enqueues the chunk's kernels and the copies of its results to the lane's staging. */
        void compute(Lane lane, Chunk c, ChunkData d);

        /** Host work once the chunk is done (reads the lane's staging); called in chunk order. */
        default void drain(Lane lane, Chunk c) {}
    }

    /** A step over a {@link Feed}'s chunks. */
    private abstract static class FeedStep implements ChunkStep {
        final Feed feed;

        FeedStep(Feed feed) {
            this.feed = feed;
        }

        @Override
        public void stage(Lane lane, Chunk c) {
            feed.stage(lane, c);
        }

        @Override
        public ChunkData upload(Lane lane, Chunk c) {
            return feed.data(lane, c);
        }
    }

    /**
     * Runs the chunks alternately on the lanes: before chunk i uses a lane, the host waits for that
     * lane's chunk i - 2 and drains it. With {@code ordered}, chunk i's kernels also wait for chunk
     * i - 1's, as steps that add into shared accumulators need.
     */
    private void run(List<Chunk> chunks, boolean ordered, ChunkStep step) {
        try {
            runChunks(chunks, ordered, step);
        } catch (RuntimeException | Error e) {
            // The other lane may still be adding into shared accumulators: the call ends once it is idle.
            for (Lane lane : lanes) {
                try {
                    lane.idle();
                } catch (RuntimeException second) {
                    e.addSuppressed(second);
                }
            }
            throw e;
        }
    }

    private void runChunks(List<Chunk> chunks, boolean ordered, ChunkStep step) {
        Chunk[] pending = new Chunk[lanes.length];
        for (int i = 0; i < chunks.size(); i++) {
            Lane lane = lanes[i % lanes.length];
            lane.await();
            if (pending[lane.index] != null) {
                step.drain(lane, pending[lane.index]);
                pending[lane.index] = null;
            }
            Chunk c = chunks.get(i);
            step.stage(lane, c);
            ChunkData d = step.upload(lane, c);
            if (ordered && i > 0) {
                lane.after(lanes[(i - 1) % lanes.length]);
            }
            step.compute(lane, c, d);
            lane.finish();
            pending[lane.index] = c;
        }
        for (int i = Math.max(0, chunks.size() - lanes.length); i < chunks.size(); i++) {
            Lane lane = lanes[i % lanes.length];
            lane.await();
            step.drain(lane, chunks.get(i));
        }
    }

    /** A host tensor's feed; its channel scales are uploaded now. */
    private Feed streamed(ClusterInput in) {
        CuBuffer scales = null;
        if (in.channelScales() != null) {
            scales = shared().upload(Slot.SCALES, in.channelScales());
            sync(shared());
        }
        return new StreamedFeed(in, scales, chunkPositions(in.layout()), workers, kernels);
    }

    // ---------------------------------------------------------------- histogram

    @Override
    public synchronized WeightedValues[] histogram(ClusterInput in, ValueKey key, int fromGroup, int toGroup) {
        enter();
        checkHistogram(in.layout(), fromGroup, toGroup);
        GroupLayout l = in.layout();
        if (l.vectorsPerGroup() >= JavaBackend.DENSE_HISTOGRAM_MIN && !key.sixteenBit()) {
            // Java sorts fp32 keys of large groups; a device sort of that size is not built (kernels/README.md).
            return host.histogram(in, key, fromGroup, toGroup);
        }
        return histogram(streamed(in), key, fromGroup, toGroup);
    }

    static void checkHistogram(GroupLayout l, int fromGroup, int toGroup) {
        if (l.clusterDim() != 1) {
            throw new IllegalArgumentException("histogram is for scalar clustering (cluster_dim 1)");
        }
        if (fromGroup < 0 || toGroup > l.groups() || fromGroup > toGroup) {
            throw new IllegalArgumentException("groups [" + fromGroup + ", " + toGroup + ") outside [0, " + l.groups() + ")");
        }
    }

    /** The dense (groups of >= 32768 values, 16-bit keys) or sorted histogram of a feed's groups. */
    WeightedValues[] histogram(Feed feed, ValueKey key, int fromGroup, int toGroup) {
        return feed.layout().vectorsPerGroup() < JavaBackend.DENSE_HISTOGRAM_MIN
                ? sortedHistogram(feed, key, fromGroup, toGroup) : denseHistogram(feed, key, fromGroup, toGroup);
    }

    /** Per-slice dense histograms in double, summed over each group's slices in order (JavaBackend's dense path). */
    private WeightedValues[] denseHistogram(Feed feed, ValueKey key, int fromGroup, int toGroup) {
        GroupLayout l = feed.layout();
        long slots = ceil(l.vectorsPerGroup(), JavaBackend.SLICE);
        // Per group: its slots, the summed table, and at worst 1.5 tables each of compacted and folded bins.
        int perBatch = groupsPerBatch(l, (slots + 4) * BINS * 8);
        WeightedValues[] out = new WeightedValues[toGroup - fromGroup];
        for (int g0 = fromGroup; g0 < toGroup; g0 += perBatch) {
            int g1 = Math.min(toGroup, g0 + perBatch);
            int batchStart = g0;
            long accBytes = (g1 - g0) * slots * BINS * 8;
            CuBuffer acc = shared().device(Slot.ACC, accBytes);
            shared().zero(acc, accBytes);
            sync(shared());
            run(feed.chunks(LayoutWalk.startPosition(l, g0), LayoutWalk.endPosition(l, g1)), true, new FeedStep(feed) {
                @Override
                public void compute(Lane lane, Chunk c, ChunkData d) {
                    long[] segments = LayoutWalk.segments(l, batchStart, g1, c, JavaBackend.SLICE, slots);
                    CuBuffer seg = lane.upload(Slot.SEGMENTS, segments);
                    kernels.histogramDense().launch(lane.stream(), segments.length / 4, LayoutWalk.struct(l), c.first(),
                            d.x(), d.w(), KernelKeys.kind(key), seg, acc);
                }
            });
            compacted(slotsSummed(acc, g1 - g0, slots, BINS), g1 - g0, key, out, g0 - fromGroup);
        }
        return out;
    }

    /** Enqueues, per group of the batch, item j summed over its slots in slot order, on the device. */
    private CuBuffer slotsSummed(CuBuffer acc, long groups, long slotsPerGroup, long width) {
        Lane s = shared();
        CuBuffer reduced = s.device(Slot.REDUCED, groups * width * 8);
        kernels.reduceSlots().launch(s.stream(), blocks(groups * width), acc, groups, slotsPerGroup, width, reduced);
        return reduced;
    }

    private double[] reduceSlots(CuBuffer acc, long groups, long slotsPerGroup, long width) {
        Lane s = shared();
        s.download(slotsSummed(acc, groups, slotsPerGroup, width), Slot.REDUCED, groups * width * 8);
        sync(s);
        return s.doubles(Slot.REDUCED, groups * width);
    }

    /**
     * The distinct values of a batch's dense histograms ({@code groups} x 65,536 bins on the device,
     * enqueued on the shared lane): compacted to their non-zero bins and folded by value there, so
     * only the distinct values and their weights come back (plus two counts per group).
     */
    private void compacted(CuBuffer hist, int groups, ValueKey key, WeightedValues[] out, int outFrom) {
        Lane s = shared();
        CuBuffer order = denseOrder(key);
        CuBuffer values = s.device(Slot.PATTERN_VALUES, 4L * BINS);
        CuBuffer counts = s.device(Slot.COUNTS, 4L * groups);
        kernels.compactCount().launch(s.stream(), groups, hist, order, orderLength, counts);
        s.download(counts, Slot.COUNTS, 4L * groups);
        sync(s);
        long nonZero = sum(s.ints(Slot.COUNTS, groups));
        CuBuffer patterns = s.device(Slot.PATTERNS, 4 * nonZero);
        CuBuffer weights = s.device(Slot.WEIGHTS, 8 * nonZero);
        kernels.compact().launch(s.stream(), groups, hist, order, orderLength, counts, patterns, weights);
        CuBuffer distinct = s.device(Slot.DISTINCT, 4L * groups);
        kernels.foldCount().launch(s.stream(), groups, patterns, values, counts, distinct);
        s.download(distinct, Slot.DISTINCT, 4L * groups);
        sync(s);
        int[] d = s.ints(Slot.DISTINCT, groups);
        long n = sum(d);
        CuBuffer outValues = s.device(Slot.DISTINCT_VALUES, 4 * n);
        CuBuffer outWeights = s.device(Slot.DISTINCT_WEIGHTS, 8 * n);
        kernels.fold().launch(s.stream(), groups, patterns, weights, values, counts, distinct, outValues, outWeights);
        s.download(outValues, Slot.DISTINCT_VALUES, 4 * n);
        s.download(outWeights, Slot.DISTINCT_WEIGHTS, 8 * n);
        sync(s);
        DistinctValuesBuilder.fromFolded(d, s.floats(Slot.DISTINCT_VALUES, n), s.doubles(Slot.DISTINCT_WEIGHTS, n), out,
                outFrom);
    }

    private static long sum(int[] counts) {
        long total = 0;
        for (int c : counts) {
            total += c;
        }
        return total;
    }

    /** {@link KernelKeys#denseOrder} and {@link KernelKeys#patternValues} of the key on the device; uploaded once per key. */
    private CuBuffer denseOrder(ValueKey key) {
        if (!key.equals(orderKey)) {
            int[] order = KernelKeys.denseOrder(key);
            shared().upload(Slot.ORDER, order);
            shared().upload(Slot.PATTERN_VALUES, KernelKeys.patternValues(key));
            sync(shared());
            orderKey = key;
            orderLength = order.length;
        }
        return shared().device(Slot.ORDER, 4 * orderLength);
    }

    /** Bytes copied from the device to the host since the backend was made (for measuring transfers). */
    public synchronized long bytesDownloaded() {
        long total = 0;
        for (Lane lane : lanes) {
            total += lane.downloaded();
        }
        return total;
    }

    /** Each group's (key, weight) pairs sorted on the device and summed per value (JavaBackend's sorted path). */
    private WeightedValues[] sortedHistogram(Feed feed, ValueKey key, int fromGroup, int toGroup) {
        GroupLayout l = feed.layout();
        long m = l.vectorsPerGroup();
        int perBatch = groupsPerBatch(l, m * (8 + 4 + 8));
        CuBuffer sortable = key.sixteenBit() ? sortableTable(key) : null;
        WeightedValues[] out = new WeightedValues[toGroup - fromGroup];
        for (int g0 = fromGroup; g0 < toGroup; g0 += perBatch) {
            int g1 = Math.min(toGroup, g0 + perBatch);
            long from = g0;
            CuBuffer keys = shared().device(Slot.KEYS, (g1 - g0) * m * 8);
            run(feed.chunks(LayoutWalk.startPosition(l, g0), LayoutWalk.endPosition(l, g1)), false, new FeedStep(feed) {
                @Override
                public void compute(Lane lane, Chunk c, ChunkData d) {
                    kernels.histogramKeys().launch(lane.stream(), blocks(c.count()), LayoutWalk.struct(l), c.first(),
                            c.count(), d.x(), d.w(), KernelKeys.kind(key), sortable, from, (long) g1, keys);
                }
            });
            Lane s = shared();
            long n = (g1 - g0) * m;
            CuBuffer values = s.device(Slot.VALUES, n * 4);
            CuBuffer weights = s.device(Slot.WEIGHTS, n * 8);
            kernels.histogramSorted().launch(s.stream(), g1 - g0, LayoutWalk.struct(l), keys, values, weights);
            s.download(values, Slot.VALUES, n * 4);
            s.download(weights, Slot.WEIGHTS, n * 8);
            sync(s);
            float[] v = s.floats(Slot.VALUES, n);
            double[] w = s.doubles(Slot.WEIGHTS, n);
            DistinctValuesBuilder.fromSortedGroups(v, w, (int) m, g1 - g0, out, g0 - fromGroup);
        }
        return out;
    }

    /** Per 16-bit pattern, the sortable key of the value Java's {@link ValueKey} gives it; uploaded once per key. */
    private CuBuffer sortableTable(ValueKey key) {
        if (!key.equals(sortableKey)) {
            shared().upload(Slot.SORTABLE, KernelKeys.sortableTable(key));
            sync(shared());
            sortableKey = key;
        }
        return shared().device(Slot.SORTABLE, 4L * BINS);
    }

    // ---------------------------------------------------------------- assignment and centroid sums

    @Override
    public synchronized ErrorStats assign(ClusterInput in, float[] lut, int lutSize, byte[] indices) {
        enter();
        checkLut(in.layout(), lut, lutSize);
        return assign(streamed(in), lut, lutSize, indices);
    }

    static void checkLut(GroupLayout l, float[] lut, int lutSize) {
        int perGroup = lutSize * l.clusterDim();
        if (lut.length != l.groups() * perGroup) {
            throw new IllegalArgumentException("LUT holds " + lut.length + " floats, layout needs " + l.groups() * perGroup);
        }
    }

    /** Assigns a feed's vectors; {@code indices} receives them by position, or null to keep them on the device. */
    ErrorStats assign(Feed feed, float[] lut, int lutSize, byte[] indices) {
        GroupLayout l = feed.layout();
        CuBuffer lutBuffer = shared().upload(Slot.LUT, lut);
        sync(shared());
        double[] total = new double[3];
        run(feed.chunks(0, l.vectorCount()), false, new FeedStep(feed) {
            @Override
            public void compute(Lane lane, Chunk c, ChunkData d) {
                CuBuffer idx = feed.indexTarget(lane, c);
                long groups = ceil(c.count(), (long) BLOCK * ASSIGN_ITEMS);
                long sums = ceil(groups, PARTIALS_PER_SUM);
                // Per block 3 partials, padded with zeros to whole runs of PARTIALS_PER_SUM blocks...
                CuBuffer partials = lane.device(Slot.PARTIALS, sums * PARTIALS_PER_SUM * 3 * 8);
                lane.zero(partials, groups * 3 * 8, (sums * PARTIALS_PER_SUM - groups) * 3 * 8);
                kernels.assign().launch(lane.stream(), groups, LayoutWalk.struct(l), c.first(), c.count(), d.raw(), d.sens(),
                        feed.scales(), d.x(), d.w(), lutBuffer, lutSize, idx, partials);
                // ...each run summed in block order on the device, so that a chunk of 10^9 values sends
                // back kilobytes rather than 94 MB of partials.
                CuBuffer partialSums = lane.device(Slot.PARTIAL_SUMS, sums * 3 * 8);
                kernels.reduceSlots().launch(lane.stream(), blocks(sums * 3), partials, sums, (long) PARTIALS_PER_SUM, 3L,
                        partialSums);
                if (indices != null) {
                    lane.download(idx, Slot.INDICES, c.count());
                }
                lane.download(partialSums, Slot.PARTIAL_SUMS, sums * 3 * 8);
            }

            @Override
            public void drain(Lane lane, Chunk c) {
                if (indices != null) {
                    MemorySegment.copy(lane.read(Slot.INDICES, JAVA_BYTE, c.count()), JAVA_BYTE, 0, indices,
                            Math.toIntExact(c.first()), Math.toIntExact(c.count()));
                }
                double[] p = lane.doubles(Slot.PARTIAL_SUMS,
                        ceil(ceil(c.count(), (long) BLOCK * ASSIGN_ITEMS), PARTIALS_PER_SUM) * 3);
                for (int i = 0; i < p.length; i += 3) {
                    total[0] += p[i];
                    total[1] += p[i + 1];
                    total[2] += p[i + 2];
                }
            }
        });
        return new ErrorStats(total[0], total[1], total[2], l.vectorCount() * l.clusterDim());
    }

    @Override
    public synchronized CentroidSums centroidSums(ClusterInput in, byte[] indices, int lutSize) {
        enter();
        return centroidSums(streamed(in), indices, lutSize);
    }

    /** Lloyd's sums of a feed's vectors over {@code indices} (by position; ignored by a resident feed). */
    CentroidSums centroidSums(Feed feed, byte[] indices, int lutSize) {
        GroupLayout l = feed.layout();
        int perGroup = lutSize * l.clusterDim();
        long width = 2L * perGroup;
        long slots = ceil(l.vectorsPerGroup(), JavaBackend.SLICE);
        int perBatch = groupsPerBatch(l, (slots + 1) * width * 8);
        double[] sums = new double[l.groups() * perGroup];
        double[] weights = new double[sums.length];
        for (int g0 = 0; g0 < l.groups(); g0 += perBatch) {
            int g1 = Math.min(l.groups(), g0 + perBatch);
            int batchStart = g0;
            long accBytes = (g1 - g0) * slots * width * 8;
            CuBuffer acc = shared().device(Slot.ACC, accBytes);
            shared().zero(acc, accBytes);
            sync(shared());
            run(feed.chunks(LayoutWalk.startPosition(l, g0), LayoutWalk.endPosition(l, g1)), true, new FeedStep(feed) {
                @Override
                public ChunkData upload(Lane lane, Chunk c) {
                    ChunkData d = feed.data(lane, c);
                    idx = feed.indices(lane, c, indices);
                    return d;
                }

                private CuBuffer idx;

                @Override
                public void compute(Lane lane, Chunk c, ChunkData d) {
                    long[] segments = LayoutWalk.segments(l, batchStart, g1, c, JavaBackend.SLICE, slots);
                    CuBuffer seg = lane.upload(Slot.SEGMENTS, segments);
                    kernels.centroidSums().launch(lane.stream(), segments.length / 4, LayoutWalk.struct(l), c.first(),
                            c.count(), d.x(), d.w(), idx, lutSize, seg, acc);
                }
            });
            double[] totals = reduceSlots(acc, g1 - g0, slots, width);
            CentroidSums.scatterBatch(totals, g0, g1, perGroup, sums, weights);
        }
        return new CentroidSums(sums, weights);
    }

    // ---------------------------------------------------------------- packing and reconstruction

    /** Indices per chunk of pack and unpack (one byte each plus at most one packed byte, per lane). */
    private long packChunk() {
        return Math.min(STREAM_CHUNK_ELEMENTS * 4, budget / (4L * lanes.length));
    }

    /** A step over host bytes: nothing to gather, every copy in {@link #upload}. */
    private abstract static class HostStep implements ChunkStep {
        @Override
        public void stage(Lane lane, Chunk c) {}
    }

    @Override
    public synchronized byte[] pack(byte[] indices, long count, int bits) {
        enter();
        byte[] out = new byte[Math.toIntExact(PackedIndices.bytes(count, bits))];
        run(LayoutWalk.chunks(0, count, packChunk()), false, new HostStep() {
            private CuBuffer idx;

            @Override
            public ChunkData upload(Lane lane, Chunk c) {
                idx = lane.upload(Slot.INDICES, indices, c.first(), c.count());
                return null;
            }

            @Override
            public void compute(Lane lane, Chunk c, ChunkData d) {
                long bytes = PackedIndices.bytes(c.count(), bits);
                CuBuffer packed = lane.device(Slot.PACKED, bytes);
                kernels.pack().launch(lane.stream(), blocks(ceil(c.count(), 8)), idx, c.count(), bits, packed, bytes);
                lane.download(packed, Slot.PACKED, bytes);
            }

            @Override
            public void drain(Lane lane, Chunk c) {
                long bytes = PackedIndices.bytes(c.count(), bits);
                MemorySegment.copy(lane.read(Slot.PACKED, JAVA_BYTE, bytes), JAVA_BYTE, 0, out,
                        Math.toIntExact(c.first() / 8 * bits), Math.toIntExact(bytes));
            }
        });
        return out;
    }

    @Override
    public synchronized byte[] unpack(byte[] packed, long count, int bits) {
        enter();
        PackedIndices.requireLength(packed, count, bits);
        byte[] out = new byte[Math.toIntExact(count)];
        run(LayoutWalk.chunks(0, count, packChunk()), false, new HostStep() {
            private CuBuffer in;

            @Override
            public ChunkData upload(Lane lane, Chunk c) {
                in = lane.upload(Slot.PACKED, packed, c.first() / 8 * bits, PackedIndices.bytes(c.count(), bits));
                return null;
            }

            @Override
            public void compute(Lane lane, Chunk c, ChunkData d) {
                CuBuffer idx = lane.device(Slot.INDICES, c.count());
                kernels.unpack().launch(lane.stream(), blocks(ceil(c.count(), 8)), in, PackedIndices.bytes(c.count(), bits), bits,
                        idx, c.count());
                lane.download(idx, Slot.INDICES, c.count());
            }

            @Override
            public void drain(Lane lane, Chunk c) {
                MemorySegment.copy(lane.read(Slot.INDICES, JAVA_BYTE, c.count()), JAVA_BYTE, 0, out,
                        Math.toIntExact(c.first()), Math.toIntExact(c.count()));
            }
        });
        return out;
    }

    @Override
    public synchronized void reconstruct(GroupLayout layout, float[] lut, int lutSize, byte[] indices,
                                         float[] channelScales, float[] out) {
        enter();
        checkLut(layout, lut, lutSize);
        Backend.checkReconstructOutput(layout, out);
        CuBuffer lutBuffer = shared().upload(Slot.LUT, lut);
        CuBuffer scales = channelScales == null ? null : shared().upload(Slot.SCALES, channelScales);
        sync(shared());
        int cd = layout.clusterDim();
        long positions = Math.max(8, Math.min(STREAM_CHUNK_ELEMENTS / cd, budget / (4L * lanes.length) / (4L * cd + 1)));
        run(LayoutWalk.chunks(0, layout.vectorCount(), positions), false, new HostStep() {
            private CuBuffer idx;

            @Override
            public ChunkData upload(Lane lane, Chunk c) {
                idx = lane.upload(Slot.INDICES, indices, c.first(), c.count());
                return null;
            }

            @Override
            public void compute(Lane lane, Chunk c, ChunkData d) {
                CuBuffer dense = lane.device(Slot.OUT, 4 * c.count() * cd);
                kernels.reconstruct().launch(lane.stream(), blocks(c.count()), LayoutWalk.struct(layout), c.first(),
                        c.count(), lutBuffer, lutSize, idx, scales, dense);
                lane.download(dense, Slot.OUT, 4 * c.count() * cd);
            }

            @Override
            public void drain(Lane lane, Chunk c) {
                LayoutWalk.scatter(lane.read(Slot.OUT, JAVA_FLOAT, c.count() * cd), layout, c, out);
            }
        });
    }

    // ---------------------------------------------------------------- tensors kept on the device

    /**
     * Uploads a whole tensor (values, sensitivities, and with channel scales its clustered values and
     * weights) to stay on the device, for steps that need no host copies: Lloyd iterations, and
     * timing the kernels alone. Close it before the backend.
     */
    public synchronized ResidentTensor resident(ClusterInput in) {
        enter();
        return new ResidentTensor(this, in);
    }

    /** Runs {@code action} with the backend's lock held and its context current (for {@link ResidentTensor}). */
    synchronized <T> T locked(Supplier<T> action) {
        enter();
        return action.get();
    }

    Kernels kernels() {
        return kernels;
    }

    /** The staging lane a resident tensor uploads through. */
    Lane uploadLane() {
        return shared();
    }

    // ---------------------------------------------------------------- lifetime

    synchronized boolean isOpen() {
        return !closed;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (dkm != null) {
            dkm.close();
        }
        try {
            cu.makeCurrent();
            for (Lane lane : lanes) {
                lane.await();
            }
        } catch (BackendException e) {
            // A failed call can leave the context in error; the memory is released all the same.
        } finally {
            for (Lane lane : lanes) {
                lane.close();
            }
            kernels.close();
            cu.close();
        }
    }
}
