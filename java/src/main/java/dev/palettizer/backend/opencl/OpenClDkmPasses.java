package dev.palettizer.backend.opencl;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.palettizer.backend.DkmData;
import dev.palettizer.backend.DkmKernelArgs;
import dev.palettizer.backend.DkmLayout;
import dev.palettizer.backend.DkmParams;
import dev.palettizer.backend.DkmPasses;
import dev.palettizer.backend.DeviceDkmPasses;
import dev.palettizer.backend.DkmTransfers;
import dev.palettizer.backend.JavaDkmPasses;
import dev.palettizer.backend.opencl.BufferPool.Slot;
import java.lang.foreign.MemorySegment;

/**
 * {@link DkmPasses} on an OpenCL device: the kernels of kernels/common/dkm_core.h (see its header for the
 * order of summation). Per-element arrays travel as F32 (F16/BF16 data is widened on the host and rounded
 * back by {@link DkmData#write}, as the Java passes do).
 *
 * <p>Device buffers (per-element arrays, tables, tile partials) are grow-only, one per slot, allocated once
 * and reused by every later pass and step; per pass only its inputs are uploaded (the trainer's weights and
 * gradients live on the host) and its outputs downloaded. Within a {@link #beginStep step} the promised
 * weight and gradient go up once, at their first pass, and stay in their slots until the step ends.
 * {@link #assign} (once, at export) and {@link #firstNonFinite} (a check) run on the host through
 * {@link JavaDkmPasses}.
 *
 * <p>Calls are serialised (one in-order queue). Closing twice is harmless.
 */
public final class OpenClDkmPasses extends DeviceDkmPasses<Slot> {
    private final ClContext cl;
    private final BufferPool pool;
    private final DkmKernels kernels;
    private final int wg;

    /** @param hostThreads threads of the host-side passes ({@link #assign}, {@link #firstNonFinite}) */
    OpenClDkmPasses(OpenClDevice device, int hostThreads) {
        this(device, hostThreads, DkmTransfers.CHUNK);
    }

    /** @param chunk elements per staged chunk of per-element arrays (small in tests, to cross chunk boundaries) */
    OpenClDkmPasses(OpenClDevice device, int hostThreads, long chunk) {
        super("OpenCL", Slot.class, hostThreads, chunk);
        this.wg = (int) Math.min(OpenClBackend.PREFERRED_GROUP_SIZE, Long.highestOneBit(device.maxWorkGroupSize()));
        this.cl = new ClContext(device);
        try {
            this.pool = new BufferPool(cl);
            this.kernels = DkmKernels.build(cl, wg);
        } catch (RuntimeException e) {
            cl.close();
            hostPasses.close();
            throw e;
        }
    }

    private static long groups(long items, long size) {
        return (items + size - 1) / size;
    }

    // ---------------------------------------------------------------- transfers

    /** The layout's elements of {@code data}, as F32 on the device; not again when the slot holds this step's copy. */
    private ClBuffer upload(Slot slot, DkmData data, long elements) {
        ClBuffer b = pool.device(slot, Math.max(8, 4 * elements));
        if (transfers.holds(slot, data, elements)) {
            return b;
        }
        transfers.forget(slot);
        for (int c = 0; c < transfers.chunks(elements); c++) {
            long from = transfers.chunkStart(c);
            long count = transfers.chunkLength(c, elements);
            MemorySegment host = pool.host(slot, 4 * count);
            transfers.stage(data, from, count, host);
            cl.write(b, 4 * from, host, 4 * count);
        }
        transfers.uploaded(slot, data, elements);
        return b;
    }

    private void download(ClBuffer src, DkmData data, long elements) {
        for (int c = 0; c < transfers.chunks(elements); c++) {
            long from = transfers.chunkStart(c);
            long count = transfers.chunkLength(c, elements);
            MemorySegment host = pool.host(Slot.OUT, 4 * count);
            cl.read(src, 4 * from, host, 4 * count);
            transfers.unstage(host, data, from, count);
        }
    }

    private ClBuffer doubles(Slot slot, double[] src) {
        MemorySegment host = pool.host(slot, 8L * src.length);
        MemorySegment.copy(src, 0, host, JAVA_DOUBLE, 0, src.length);
        return write(slot, host);
    }

    private ClBuffer floats(Slot slot, float[] src) {
        MemorySegment host = pool.host(slot, 4L * src.length);
        MemorySegment.copy(src, 0, host, JAVA_FLOAT, 0, src.length);
        return write(slot, host);
    }

    private ClBuffer longs(Slot slot, long[] src) {
        MemorySegment host = pool.host(slot, 8L * src.length);
        MemorySegment.copy(src, 0, host, JAVA_LONG, 0, src.length);
        return write(slot, host);
    }

    private ClBuffer flags(boolean[] src) {
        MemorySegment host = pool.host(Slot.DKM_FLAGS, src.length);
        for (int i = 0; i < src.length; i++) {
            host.set(JAVA_BYTE, i, (byte) (src[i] ? 1 : 0));
        }
        return write(Slot.DKM_FLAGS, host);
    }

    private ClBuffer bytes(byte[] src) {
        MemorySegment host = pool.host(Slot.DKM_FLAGS, src.length);
        MemorySegment.copy(src, 0, host, JAVA_BYTE, 0, src.length);
        return write(Slot.DKM_FLAGS, host);
    }

    private ClBuffer write(Slot slot, MemorySegment host) {
        ClBuffer b = pool.device(slot, Math.max(8, host.byteSize()));
        if (host.byteSize() > 0) {
            cl.write(b, 0, host, host.byteSize());
        }
        return b;
    }

    private MemorySegment read(ClBuffer src, long bytes) {
        MemorySegment host = pool.host(Slot.OUT, bytes);
        if (bytes > 0) {
            cl.read(src, 0, host, bytes);
        }
        return host;
    }

    private void readDoubles(ClBuffer src, double[] dst, int count) {
        MemorySegment.copy(read(src, 8L * count), JAVA_DOUBLE, 0, dst, 0, count);
    }

    // ---------------------------------------------------------------- per-point passes (tiles)

    /** Runs one tile pass that writes {@code width} partial sums per tile, then adds each partition's tiles into {@code result}. */
    private void tileSums(DkmLayout l, int width, long[] tiles, ClBuffer tileBuf, ClKernel kernel, Object[] args,
                          double[] result) {
        int partitions = l.partitions();
        long tileCount = tiles[partitions];
        ClBuffer partials = pool.device(Slot.DKM_PARTIALS, Math.max(8, 8 * tileCount * width));
        args[args.length - 1] = partials;
        kernel.args(args);
        cl.launch(kernel, tileCount, wg);
        ClBuffer out = pool.device(Slot.DKM_SUMS, 8L * partitions * width);
        kernels.reduceTiles().args(partials, tileBuf, (long) partitions, (long) width, out);
        cl.launch(kernels.reduceTiles(), groups((long) partitions * width, wg), wg);
        readDoubles(out, result, partitions * width);
    }

    @Override
    public synchronized void attentionSums(DkmData w, DkmLayout l, DkmParams p, double[] cIn, boolean[] active, double[] sums) {
        open();
        DkmKernelArgs.requireSupported("OpenCL", p);
        long[] tiles = DkmKernelArgs.tileStarts(l, wg);
        ClBuffer tileBuf = longs(Slot.DKM_TILES, tiles);
        Object[] args = {DkmKernelArgs.layout(l), DkmKernelArgs.params(p), 0, upload(Slot.DKM_W, w, l.elements()), null,
                doubles(Slot.DKM_C_IN, cIn), flags(active), tileBuf, (long) l.partitions(), null};
        tileSums(l, DkmPasses.sumsWidth(p), tiles, tileBuf, kernels.sums(), args, sums);
    }

    @Override
    public synchronized void attentionApply(DkmData w, DkmData out, DkmLayout l, DkmParams p, double[] cIn, double[] cOut,
                                            boolean[] active) {
        open();
        DkmKernelArgs.requireSupported("OpenCL", p);
        boolean all = true;
        for (int part = 0; part < l.partitions(); part++) {
            all &= active[part];
        }
        // Inactive partitions keep their values: they go up with the rest and come back unchanged.
        ClBuffer outBuf = all ? pool.device(Slot.DKM_OUT, 4 * l.elements()) : upload(Slot.DKM_OUT, out, l.elements());
        long[] tiles = DkmKernelArgs.tileStarts(l, wg);
        kernels.apply().args(DkmKernelArgs.layout(l), DkmKernelArgs.params(p), upload(Slot.DKM_W, w, l.elements()), outBuf,
                doubles(Slot.DKM_C_IN, cIn), doubles(Slot.DKM_C_OUT, cOut), flags(active), longs(Slot.DKM_TILES, tiles),
                (long) l.partitions());
        cl.launch(kernels.apply(), tiles[l.partitions()], wg);
        download(outBuf, out, l.elements());
    }

    @Override
    public synchronized void attentionGradientSums(DkmData w, DkmData g, DkmLayout l, DkmParams p, double[] cIn,
                                                   boolean[] active, double[] sums) {
        open();
        DkmKernelArgs.requireSupported("OpenCL", p);
        long[] tiles = DkmKernelArgs.tileStarts(l, wg);
        ClBuffer tileBuf = longs(Slot.DKM_TILES, tiles);
        Object[] args = {DkmKernelArgs.layout(l), DkmKernelArgs.params(p), 1, upload(Slot.DKM_W, w, l.elements()),
                upload(Slot.DKM_G, g, l.elements()), doubles(Slot.DKM_C_IN, cIn), flags(active), tileBuf,
                (long) l.partitions(), null};
        tileSums(l, p.k() * p.dim(), tiles, tileBuf, kernels.sums(), args, sums);
    }

    @Override
    public synchronized void backwardIteration(DkmData w, DkmData g, DkmData gradIn, boolean accumulate, DkmLayout l,
                                               DkmParams p, double[] cIn, double[] cOut, double[] e, double[] f, byte[] role,
                                               double[] gcIn) {
        open();
        DkmKernelArgs.requireSupported("OpenCL", p);
        boolean anyDirect = false;
        for (int part = 0; part < l.partitions(); part++) {
            anyDirect |= role[part] == 2;
        }
        ClBuffer grad = accumulate ? upload(Slot.DKM_OUT, gradIn, l.elements()) : pool.device(Slot.DKM_OUT, 4 * l.elements());
        long[] tiles = DkmKernelArgs.tileStarts(l, wg);
        ClBuffer tileBuf = longs(Slot.DKM_TILES, tiles);
        Object[] args = {DkmKernelArgs.layout(l), DkmKernelArgs.params(p), upload(Slot.DKM_W, w, l.elements()),
                anyDirect ? upload(Slot.DKM_G, g, l.elements()) : null, grad, accumulate ? 1 : 0,
                doubles(Slot.DKM_C_IN, cIn), anyDirect ? doubles(Slot.DKM_C_OUT, cOut) : null, doubles(Slot.DKM_E, e),
                doubles(Slot.DKM_F, f), bytes(role), tileBuf, (long) l.partitions(), null};
        tileSums(l, p.k() * p.dim(), tiles, tileBuf, kernels.backward(), args, gcIn);
        download(grad, gradIn, l.elements());
    }

    // ---------------------------------------------------------------- per-value passes

    /**
     * Counts (g null) or sums of g by (partition, key), order-free ({@link dev.palettizer.backend.FixedPointSums}):
     * one work-item per element adding into integer tables with atomics. False when a value of w has no key.
     */
    private boolean byValue(DkmData w, DkmData g, DkmLayout l, ValueKeys keys, double[] result) {
        DkmKernelArgs.requireScalar(l);
        long slots = 65536L * l.partitions();
        long[] layout = DkmKernelArgs.layout(l);
        int keyType = DkmKernelArgs.keys(keys);
        ClBuffer wBuf = upload(Slot.DKM_W, w, l.elements());
        ClBuffer gBuf = g == null ? null : upload(Slot.DKM_G, g, l.elements());
        ClBuffer counts = pool.device(Slot.DKM_PARTIALS, 8 * slots);
        cl.zero(counts, 8 * slots);
        ClBuffer maxBits = null;
        if (g != null) {
            maxBits = pool.device(Slot.DKM_KEY_MAX, 4 * slots);
            cl.zero(maxBits, 4 * slots);
        }
        ClBuffer failed = pool.device(Slot.DKM_FAILED, 8);
        cl.zero(failed, 8);
        long items = Math.max(1, l.elements());
        kernels.keyStats().args(layout, wBuf, gBuf, keyType, counts, maxBits, failed);
        cl.launch(kernels.keyStats(), groups(items, wg), wg);
        if (read(failed, 4).get(JAVA_INT, 0) != 0) {
            return false;
        }
        ClBuffer sums = null;
        if (g != null) {
            sums = pool.device(Slot.DKM_KEY_SUMS, 8 * slots);
            cl.zero(sums, 8 * slots);
            kernels.fixedSums().args(layout, wBuf, gBuf, keyType, counts, maxBits, sums);
            cl.launch(kernels.fixedSums(), groups(items, wg), wg);
        }
        ClBuffer out = pool.device(Slot.DKM_SUMS, 8 * slots);
        kernels.keyResults().args(counts, maxBits, sums, slots, out);
        cl.launch(kernels.keyResults(), groups(slots, wg), wg);
        readDoubles(out, result, (int) slots);
        return true;
    }

    @Override
    public synchronized boolean countValues(DkmData w, DkmLayout l, ValueKeys keys, double[] counts) {
        open();
        return byValue(w, null, l, keys, counts);
    }

    @Override
    public synchronized void sumByValue(DkmData w, DkmData g, DkmLayout l, ValueKeys keys, double[] sums) {
        open();
        if (!byValue(w, g, l, keys, sums)) {
            throw new IllegalArgumentException("sumByValue: a value of the weight has no " + keys + " key (the keys must be valid for w)");
        }
    }

    @Override
    protected void gather(DkmData w, DkmData g, DkmData out, DkmLayout l, ValueKeys keys, float[] a, float[] b) {
        DkmKernelArgs.requireScalar(l);
        ClBuffer outBuf = pool.device(Slot.DKM_OUT, 4 * l.elements());
        kernels.gather().args(DkmKernelArgs.layout(l), upload(Slot.DKM_W, w, l.elements()),
                g == null ? null : upload(Slot.DKM_G, g, l.elements()), DkmKernelArgs.keys(keys),
                floats(Slot.DKM_TABLE_A, a), b == null ? null : floats(Slot.DKM_TABLE_B, b), outBuf);
        cl.launch(kernels.gather(), groups(l.elements(), wg), wg);
        download(outBuf, out, l.elements());
    }


    @Override
    protected void closeDevice() {
        kernels.close();
        pool.close();
        cl.close();
    }
}
