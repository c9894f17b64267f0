package dev.palettizer.backend.opencl;

import dev.palettizer.backend.Backend;
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
import dev.palettizer.backend.opencl.BufferPool.Slot;
import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.GroupLayout;
import java.util.concurrent.ForkJoinPool;

/**
 * The {@link Backend} steps as OpenCL kernels (kernels/opencl, logic shared with CUDA in
 * kernels/common/palettizer_core.h), giving the Java reference's indices, histograms and centroid
 * sums bit for bit; error statistics agree up to the order of their final additions.
 *
 * <p>Every step covers all groups of a tensor in one launch per chunk: tensors whose per-element
 * buffers exceed {@code budgetBytes} are processed in chunks of positions, and per-group
 * accumulators beyond it in batches of groups. Device buffers are reused across calls and tensors
 * and released on {@link #close()}. Calls are serialised (one queue); the histogram of fp32 keys
 * over groups of at least {@link JavaBackend#DENSE_HISTOGRAM_MIN} values runs on the host (see
 * kernels/README.md).
 */
public final class OpenClBackend implements Backend {
    /** Work-group size, when the device allows it. */
    static final int PREFERRED_GROUP_SIZE = 256;
    /** Positions per work-item of the assignment kernel: PAL_ASSIGN_ITEMS of kernels/common/palettizer_core.h. */
    static final int ASSIGN_ITEMS = 16;
    private static final int BINS = KernelKeys.PATTERNS;

    private final ClContext cl;
    private final BufferPool pool;
    private final Transfers io;
    private final Kernels kernels;
    private final JavaBackend host;
    private final long budget;
    private final int wg;
    private ValueKey sortableKey;
    private ValueKey orderKey;
    private long orderLength;
    private final int hostThreads;
    private OpenClDkmPasses dkm;
    private boolean closed;

    /**
     * @param workers the engine's pool, used by the host-side fp32 histogram
     * @param budgetBytes device memory for one chunk's per-element buffers, and for one batch's accumulators
     */
    OpenClBackend(OpenClDevice device, ForkJoinPool workers, long budgetBytes) {
        if (budgetBytes < 1024) {
            throw new IllegalArgumentException("device buffer budget must be at least 1 KiB, got " + budgetBytes);
        }
        this.budget = budgetBytes;
        this.wg = (int) Math.min(PREFERRED_GROUP_SIZE, Long.highestOneBit(device.maxWorkGroupSize()));
        this.host = new JavaBackend(workers);
        this.hostThreads = workers.getParallelism();
        this.cl = new ClContext(device);
        try {
            this.pool = new BufferPool(cl);
            this.io = new Transfers(cl, pool);
            this.kernels = Kernels.build(cl, wg);
        } catch (RuntimeException e) {
            cl.close();
            throw e;
        }
    }

    /** The default budget: a quarter of the device's memory, within its largest allocation. */
    static long defaultBudget(OpenClDevice device) {
        return Math.min(device.maxAllocBytes(), device.globalMemoryBytes() / 4);
    }

    @Override
    public String name() {
        return "opencl";
    }

    /** {@link OpenClDkmPasses} on this backend's device (a context and program of their own). */
    @Override
    public synchronized DkmPasses dkmPasses() {
        open();
        if (dkm == null) {
            dkm = new OpenClDkmPasses(cl.device(), hostThreads);
        }
        return dkm;
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("OpenCL backend used after close");
        }
    }

    private static long blocks(long items, long size) {
        return (items + size - 1) / size;
    }

    // ---------------------------------------------------------------- one chunk of a tensor on the device

    /** A chunk's buffers: raw values and sensitivities (null: all 1), clustered values x and weights w. */
    private record ChunkData(ClBuffer raw, ClBuffer sens, ClBuffer x, ClBuffer w) {}

    /** Positions per chunk for steps that hold raw, sensitivities, x and w (4 floats per component) and an index. */
    private long clusterChunk(GroupLayout l) {
        return budget / (16L * l.clusterDim() + 1);
    }

    private ClBuffer scales(ClusterInput in) {
        return in.channelScales() == null ? null : io.floats(Slot.SCALES, in.channelScales());
    }

    private ChunkData upload(ClusterInput in, ClBuffer scales, Chunk c) {
        GroupLayout l = in.layout();
        ClBuffer raw = io.gather(Slot.RAW, in.values(), l, c);
        ClBuffer sens = in.sensitivities() == null ? null : io.gather(Slot.SENS, in.sensitivities(), l, c);
        if (scales == null) {
            return new ChunkData(raw, sens, raw, sens);
        }
        long elements = c.count() * l.clusterDim();
        ClBuffer x = pool.device(Slot.X, 4 * elements);
        ClBuffer w = pool.device(Slot.W, 4 * elements);
        kernels.prepare().args(LayoutWalk.struct(l), c.first(), c.count(), raw, sens, scales, x, w);
        cl.launch(kernels.prepare(), blocks(elements, wg), wg);
        return new ChunkData(raw, sens, x, w);
    }

    /** Groups per batch when each needs {@code bytesPerGroup} of accumulators: as many as the budget holds, at least one. */
    private int groupsPerBatch(GroupLayout l, long bytesPerGroup) {
        return (int) Math.clamp(budget / bytesPerGroup, 1, l.groups());
    }

    // ---------------------------------------------------------------- histogram

    @Override
    public synchronized WeightedValues[] histogram(ClusterInput in, ValueKey key, int fromGroup, int toGroup) {
        open();
        GroupLayout l = in.layout();
        if (l.clusterDim() != 1) {
            throw new IllegalArgumentException("histogram is for scalar clustering (cluster_dim 1)");
        }
        if (fromGroup < 0 || toGroup > l.groups() || fromGroup > toGroup) {
            throw new IllegalArgumentException("groups [" + fromGroup + ", " + toGroup + ") outside [0, " + l.groups() + ")");
        }
        if (l.vectorsPerGroup() < JavaBackend.DENSE_HISTOGRAM_MIN) {
            return sortedHistogram(in, key, fromGroup, toGroup);
        }
        // Java sorts fp32 keys of large groups; a device sort of that size is not built (kernels/README.md).
        return key.sixteenBit() ? denseHistogram(in, key, fromGroup, toGroup) : host.histogram(in, key, fromGroup, toGroup);
    }

    /** Per-slice dense histograms in double, summed over each group's slices in order (JavaBackend's dense path). */
    private WeightedValues[] denseHistogram(ClusterInput in, ValueKey key, int fromGroup, int toGroup) {
        GroupLayout l = in.layout();
        long slots = blocks(l.vectorsPerGroup(), JavaBackend.SLICE);
        // Per group: its slots, the summed table, and at worst 1.5 tables each of compacted and folded bins.
        int perBatch = groupsPerBatch(l, (slots + 4) * BINS * 8);
        ClBuffer scales = scales(in);
        WeightedValues[] out = new WeightedValues[toGroup - fromGroup];
        for (int g0 = fromGroup; g0 < toGroup; g0 += perBatch) {
            int g1 = Math.min(toGroup, g0 + perBatch);
            ClBuffer acc = pool.device(Slot.ACC, (g1 - g0) * slots * BINS * 8);
            cl.zero(acc, (g1 - g0) * slots * BINS * 8);
            for (Chunk c : LayoutWalk.chunks(LayoutWalk.startPosition(l, g0), LayoutWalk.endPosition(l, g1),
                    clusterChunk(l))) {
                ChunkData d = upload(in, scales, c);
                long[] segments = LayoutWalk.segments(l, g0, g1, c, JavaBackend.SLICE, slots);
                ClBuffer seg = io.longs(Slot.SEGMENTS, segments);
                kernels.histogramDense().args(LayoutWalk.struct(l), c.first(), d.x(), d.w(), KernelKeys.kind(key), seg, acc);
                cl.launch(kernels.histogramDense(), segments.length / 4, wg);
            }
            compacted(slotsSummed(acc, g1 - g0, slots, BINS), g1 - g0, key, out, g0 - fromGroup);
        }
        return out;
    }

    /** Per group of the batch, item j summed over its slots in slot order, on the device. */
    private ClBuffer slotsSummed(ClBuffer acc, long groups, long slotsPerGroup, long width) {
        ClBuffer reduced = pool.device(Slot.REDUCED, groups * width * 8);
        kernels.reduceSlots().args(acc, groups, slotsPerGroup, width, reduced);
        cl.launch(kernels.reduceSlots(), blocks(groups * width, wg), wg);
        return reduced;
    }

    private double[] reduceSlots(ClBuffer acc, long groups, long slotsPerGroup, long width) {
        return io.readDoubles(slotsSummed(acc, groups, slotsPerGroup, width), groups * width);
    }

    /**
     * The distinct values of a batch's dense histograms ({@code groups} x 65,536 bins on the device):
     * compacted to their non-zero bins and folded by value there, so only the distinct values and
     * their weights come back (plus two counts per group).
     */
    private void compacted(ClBuffer hist, int groups, ValueKey key, WeightedValues[] out, int outFrom) {
        ClBuffer order = denseOrder(key);
        ClBuffer values = pool.device(Slot.PATTERN_VALUES, 4L * BINS);
        ClBuffer counts = pool.device(Slot.COUNTS, 4L * groups);
        kernels.compactCount().args(hist, order, orderLength, counts);
        cl.launch(kernels.compactCount(), groups, wg);
        long nonZero = sum(io.readInts(counts, groups));
        ClBuffer patterns = pool.device(Slot.PATTERNS, 4 * nonZero);
        ClBuffer weights = pool.device(Slot.WEIGHTS, 8 * nonZero);
        kernels.compact().args(hist, order, orderLength, counts, patterns, weights);
        cl.launch(kernels.compact(), groups, wg);
        ClBuffer distinct = pool.device(Slot.DISTINCT, 4L * groups);
        kernels.foldCount().args(patterns, values, counts, distinct);
        cl.launch(kernels.foldCount(), groups, wg);
        int[] d = io.readInts(distinct, groups);
        long n = sum(d);
        ClBuffer outValues = pool.device(Slot.DISTINCT_VALUES, 4 * n);
        ClBuffer outWeights = pool.device(Slot.DISTINCT_WEIGHTS, 8 * n);
        kernels.fold().args(patterns, weights, values, counts, distinct, outValues, outWeights);
        cl.launch(kernels.fold(), groups, wg);
        DistinctValuesBuilder.fromFolded(d, io.readFloats(outValues, n), io.readDoubles(outWeights, n), out, outFrom);
    }

    private static long sum(int[] counts) {
        long total = 0;
        for (int c : counts) {
            total += c;
        }
        return total;
    }

    /** {@link KernelKeys#denseOrder} and {@link KernelKeys#patternValues} of the key on the device; uploaded once per key. */
    private ClBuffer denseOrder(ValueKey key) {
        if (!key.equals(orderKey)) {
            int[] order = KernelKeys.denseOrder(key);
            io.ints(Slot.ORDER, order);
            io.floats(Slot.PATTERN_VALUES, KernelKeys.patternValues(key));
            orderKey = key;
            orderLength = order.length;
        }
        return pool.device(Slot.ORDER, 4 * orderLength);
    }

    /** Bytes copied from the device to the host since the backend was made (for measuring transfers). */
    public synchronized long bytesDownloaded() {
        return io.downloaded();
    }

    /** Each group's (key, weight) pairs sorted on the device and summed per value (JavaBackend's sorted path). */
    private WeightedValues[] sortedHistogram(ClusterInput in, ValueKey key, int fromGroup, int toGroup) {
        GroupLayout l = in.layout();
        long m = l.vectorsPerGroup();
        int perBatch = groupsPerBatch(l, m * (8 + 4 + 8));
        ClBuffer scales = scales(in);
        ClBuffer sortable = key.sixteenBit() ? sortableTable(key) : null;
        WeightedValues[] out = new WeightedValues[toGroup - fromGroup];
        for (int g0 = fromGroup; g0 < toGroup; g0 += perBatch) {
            int g1 = Math.min(toGroup, g0 + perBatch);
            ClBuffer keys = pool.device(Slot.KEYS, (g1 - g0) * m * 8);
            for (Chunk c : LayoutWalk.chunks(LayoutWalk.startPosition(l, g0), LayoutWalk.endPosition(l, g1),
                    clusterChunk(l))) {
                ChunkData d = upload(in, scales, c);
                kernels.histogramKeys().args(LayoutWalk.struct(l), c.first(), c.count(), d.x(), d.w(), KernelKeys.kind(key),
                        sortable, (long) g0, (long) g1, keys);
                cl.launch(kernels.histogramKeys(), blocks(c.count(), wg), wg);
            }
            ClBuffer values = pool.device(Slot.VALUES, (g1 - g0) * m * 4);
            ClBuffer weights = pool.device(Slot.WEIGHTS, (g1 - g0) * m * 8);
            kernels.histogramSorted().args(LayoutWalk.struct(l), keys, values, weights);
            cl.launch(kernels.histogramSorted(), g1 - g0, wg);
            float[] v = io.readFloats(values, (g1 - g0) * m);
            double[] w = io.readDoubles(weights, (g1 - g0) * m);
            DistinctValuesBuilder.fromSortedGroups(v, w, (int) m, g1 - g0, out, g0 - fromGroup);
        }
        return out;
    }

    /** Per 16-bit pattern, the sortable key of the value Java's {@link ValueKey} gives it (sign bit flipped). */
    private ClBuffer sortableTable(ValueKey key) {
        if (!key.equals(sortableKey)) {
            io.ints(Slot.SORTABLE, KernelKeys.sortableTable(key));
            sortableKey = key;
        }
        return pool.device(Slot.SORTABLE, 4L * BINS);
    }

    // ---------------------------------------------------------------- assignment and centroid sums

    @Override
    public synchronized ErrorStats assign(ClusterInput in, float[] lut, int lutSize, byte[] indices) {
        open();
        GroupLayout l = in.layout();
        int perGroup = lutSize * l.clusterDim();
        if (lut.length != l.groups() * perGroup) {
            throw new IllegalArgumentException("LUT holds " + lut.length + " floats, layout needs " + l.groups() * perGroup);
        }
        ClBuffer scales = scales(in);
        ClBuffer lutBuffer = io.floats(Slot.LUT, lut);
        double sse = 0;
        double weighted = 0;
        double energy = 0;
        for (Chunk c : LayoutWalk.chunks(0, l.vectorCount(), clusterChunk(l))) {
            ChunkData d = upload(in, scales, c);
            ClBuffer idx = pool.device(Slot.INDICES, c.count());
            long groups = blocks(c.count(), (long) wg * ASSIGN_ITEMS);
            ClBuffer partials = pool.device(Slot.PARTIALS, groups * 3 * 8);
            kernels.assign().args(LayoutWalk.struct(l), c.first(), c.count(), d.raw(), d.sens(), scales, d.x(), d.w(),
                    lutBuffer, lutSize, idx, partials);
            cl.launch(kernels.assign(), groups, wg);
            io.readBytes(idx, indices, c.first(), c.count());
            double[] p = io.readDoubles(partials, groups * 3);
            for (int i = 0; i < p.length; i += 3) {
                sse += p[i];
                weighted += p[i + 1];
                energy += p[i + 2];
            }
        }
        return new ErrorStats(sse, weighted, energy, l.vectorCount() * l.clusterDim());
    }

    @Override
    public synchronized CentroidSums centroidSums(ClusterInput in, byte[] indices, int lutSize) {
        open();
        GroupLayout l = in.layout();
        int perGroup = lutSize * l.clusterDim();
        long width = 2L * perGroup;
        long slots = blocks(l.vectorsPerGroup(), JavaBackend.SLICE);
        int perBatch = groupsPerBatch(l, (slots + 1) * width * 8);
        ClBuffer scales = scales(in);
        double[] sums = new double[l.groups() * perGroup];
        double[] weights = new double[sums.length];
        for (int g0 = 0; g0 < l.groups(); g0 += perBatch) {
            int g1 = Math.min(l.groups(), g0 + perBatch);
            ClBuffer acc = pool.device(Slot.ACC, (g1 - g0) * slots * width * 8);
            cl.zero(acc, (g1 - g0) * slots * width * 8);
            for (Chunk c : LayoutWalk.chunks(LayoutWalk.startPosition(l, g0), LayoutWalk.endPosition(l, g1),
                    clusterChunk(l))) {
                ChunkData d = upload(in, scales, c);
                ClBuffer idx = io.bytes(Slot.INDICES, indices, c.first(), c.count());
                long[] segments = LayoutWalk.segments(l, g0, g1, c, JavaBackend.SLICE, slots);
                ClBuffer seg = io.longs(Slot.SEGMENTS, segments);
                kernels.centroidSums().args(LayoutWalk.struct(l), c.first(), c.count(), d.x(), d.w(), idx, lutSize, seg,
                        acc);
                cl.launch(kernels.centroidSums(), segments.length / 4, wg);
            }
            double[] totals = reduceSlots(acc, g1 - g0, slots, width);
            CentroidSums.scatterBatch(totals, g0, g1, perGroup, sums, weights);
        }
        return new CentroidSums(sums, weights);
    }

    // ---------------------------------------------------------------- packing and reconstruction

    /** Indices per chunk of pack and unpack: one byte each plus at most one packed byte. */
    private long packChunk() {
        return budget / 2;
    }

    @Override
    public synchronized byte[] pack(byte[] indices, long count, int bits) {
        open();
        byte[] out = new byte[Math.toIntExact(PackedIndices.bytes(count, bits))];
        for (Chunk c : LayoutWalk.chunks(0, count, packChunk())) {
            long bytes = PackedIndices.bytes(c.count(), bits);
            ClBuffer idx = io.bytes(Slot.INDICES, indices, c.first(), c.count());
            ClBuffer packed = pool.device(Slot.PACKED, bytes);
            kernels.pack().args(idx, c.count(), bits, packed, bytes);
            cl.launch(kernels.pack(), blocks(blocks(c.count(), 8), wg), wg);
            io.readBytes(packed, out, c.first() / 8 * bits, bytes);
        }
        return out;
    }

    @Override
    public synchronized byte[] unpack(byte[] packed, long count, int bits) {
        open();
        PackedIndices.requireLength(packed, count, bits);
        byte[] out = new byte[Math.toIntExact(count)];
        for (Chunk c : LayoutWalk.chunks(0, count, packChunk())) {
            long bytes = PackedIndices.bytes(c.count(), bits);
            ClBuffer in = io.bytes(Slot.PACKED, packed, c.first() / 8 * bits, bytes);
            ClBuffer idx = pool.device(Slot.INDICES, c.count());
            kernels.unpack().args(in, bytes, bits, idx, c.count());
            cl.launch(kernels.unpack(), blocks(blocks(c.count(), 8), wg), wg);
            io.readBytes(idx, out, c.first(), c.count());
        }
        return out;
    }

    @Override
    public synchronized void reconstruct(GroupLayout layout, float[] lut, int lutSize, byte[] indices,
                                         float[] channelScales, float[] out) {
        open();
        if (lut.length != layout.groups() * lutSize * layout.clusterDim()) {
            throw new IllegalArgumentException("LUT holds " + lut.length + " floats, layout needs "
                    + layout.groups() * lutSize * layout.clusterDim());
        }
        Backend.checkReconstructOutput(layout, out);
        ClBuffer lutBuffer = io.floats(Slot.LUT, lut);
        ClBuffer scales = channelScales == null ? null : io.floats(Slot.SCALES, channelScales);
        for (Chunk c : LayoutWalk.chunks(0, layout.vectorCount(), budget / (4L * layout.clusterDim() + 1))) {
            ClBuffer idx = io.bytes(Slot.INDICES, indices, c.first(), c.count());
            ClBuffer dense = pool.device(Slot.OUT, 4 * c.count() * layout.clusterDim());
            kernels.reconstruct().args(LayoutWalk.struct(layout), c.first(), c.count(), lutBuffer, lutSize, idx, scales,
                    dense);
            cl.launch(kernels.reconstruct(), blocks(c.count(), wg), wg);
            io.scatter(dense, layout, c, out);
        }
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
        kernels.close();
        pool.close();
        cl.close();
    }
}
