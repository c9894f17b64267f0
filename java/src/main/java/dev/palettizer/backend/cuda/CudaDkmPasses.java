package dev.palettizer.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.palettizer.backend.BackendException;
import dev.palettizer.backend.DkmData;
import dev.palettizer.backend.DkmKernelArgs;
import dev.palettizer.backend.DkmLayout;
import dev.palettizer.backend.DkmParams;
import dev.palettizer.backend.DkmPasses;
import dev.palettizer.backend.DeviceDkmPasses;
import dev.palettizer.backend.DkmTransfers;
import dev.palettizer.backend.JavaDkmPasses;
import dev.palettizer.backend.cuda.Lane.Slot;
import java.lang.foreign.MemorySegment;

/**
 * {@link DkmPasses} on a CUDA device: the same kernels as {@code OpenClDkmPasses} (kernels/common/dkm_core.h,
 * compiled into the prebuilt fatbin), the same launches (blocks of {@link CudaBackend#BLOCK} threads, so the
 * same tiles and the same order of summation) and the same residency: grow-only device buffers per slot,
 * allocated once and reused by every later pass and step; per pass only its inputs go up and its outputs
 * come back, except the weight and gradient promised for a {@link #beginStep step}: those go up once, at
 * their first pass, and stay in their slots until the step ends. {@link #assign} and {@link #firstNonFinite} run on the host through {@link JavaDkmPasses}.
 *
 * <p>Calls are serialised on one stream; each makes the context current in its thread. Closing twice is harmless.
 */
public final class CudaDkmPasses extends DeviceDkmPasses<Slot> {
    private static final int BLOCK = CudaBackend.BLOCK;

    private final CuContext cu;
    private final CuDkmKernels kernels;
    private final Lane lane;
    /** Pinned stagings that chunks of per-element arrays alternate between. */
    private static final Slot[] STAGES = {Slot.DKM_STAGE_A, Slot.DKM_STAGE_B};

    /** Which of {@link #STAGES} the next chunk uses. */
    private int turn;

    /** @param hostThreads threads of the host-side passes ({@link #assign}, {@link #firstNonFinite}) */
    CudaDkmPasses(int ordinal, int hostThreads) {
        this(ordinal, hostThreads, DkmTransfers.CHUNK);
    }

    /** @param chunk elements per staged chunk of per-element arrays (small in tests, to cross chunk boundaries) */
    CudaDkmPasses(int ordinal, int hostThreads, long chunk) {
        super("CUDA", Slot.class, hostThreads, chunk);
        CuContext context = null;
        CuDkmKernels k = null;
        try {
            context = new CuContext(ordinal);
            k = CuDkmKernels.load(Fatbin.bytes());
            this.lane = new Lane(0);
        } catch (RuntimeException e) {
            if (k != null) {
                k.close();
            }
            if (context != null) {
                context.close();
            }
            hostPasses.close();
            throw e;
        }
        this.cu = context;
        this.kernels = k;
    }

    private void enter() {
        open();
        cu.makeCurrent();
        lane.idle();
    }

    private static long blocks(long items) {
        return (items + BLOCK - 1) / BLOCK;
    }

    // ---------------------------------------------------------------- transfers (asynchronous on the lane until sync)

    /**
     * The layout's elements of {@code data}, as F32 in the slot's device buffer; not again when the slot holds this
     * step's copy. Chunks alternate between two pinned stagings: converting one overlaps copying the one before,
     * and a staging is refilled only after the copy out of it is done (the wait after each conversion).
     */
    private CuBuffer upload(Slot slot, DkmData data, long elements) {
        CuBuffer b = lane.device(slot, Math.max(4, 4 * elements));
        if (transfers.holds(slot, data, elements)) {
            return b;
        }
        transfers.forget(slot);
        for (int c = 0; c < transfers.chunks(elements); c++) {
            long from = transfers.chunkStart(c);
            long count = transfers.chunkLength(c, elements);
            Slot stage = STAGES[turn++ & 1];
            transfers.stage(data, from, count, lane.staging(stage, 4 * count));
            sync();
            lane.copyIn(stage, b, 4 * from, 4 * count);
        }
        transfers.uploaded(slot, data, elements);
        return b;
    }

    /**
     * Waits for the lane, then writes the layout's elements of {@code src} into {@code data}, chunk by chunk: the
     * copy of the next chunk overlaps converting this one.
     */
    private void download(CuBuffer src, DkmData data, long elements) {
        int chunks = transfers.chunks(elements);
        Slot[] stage = new Slot[chunks];
        for (int c = 0; c < chunks; c++) {
            stage[c] = STAGES[turn++ & 1];
        }
        enqueueChunk(src, stage, 0, elements);
        for (int c = 0; c < chunks; c++) {
            sync();
            if (c + 1 < chunks) {
                enqueueChunk(src, stage, c + 1, elements);
            }
            long from = transfers.chunkStart(c);
            long count = transfers.chunkLength(c, elements);
            transfers.unstage(lane.staging(stage[c], 4 * count), data, from, count);
        }
        if (chunks == 0) {
            sync();
        }
    }

    private void enqueueChunk(CuBuffer src, Slot[] stage, int c, long elements) {
        if (c < stage.length) {
            lane.download(src, 4 * transfers.chunkStart(c), stage[c], 4 * transfers.chunkLength(c, elements));
        }
    }

    private CuBuffer doubles(Slot slot, double[] src) {
        MemorySegment.copy(src, 0, lane.staging(slot, 8L * src.length), JAVA_DOUBLE, 0, src.length);
        return lane.upload(slot, 8L * src.length);
    }

    private CuBuffer flags(Slot slot, byte[] src) {
        return lane.upload(slot, src, 0, src.length);
    }

    private static byte[] bytes(boolean[] flags) {
        byte[] b = new byte[flags.length];
        for (int i = 0; i < flags.length; i++) {
            b[i] = (byte) (flags[i] ? 1 : 0);
        }
        return b;
    }

    private void sync() {
        lane.finish();
        lane.await();
    }

    // ---------------------------------------------------------------- per-point passes (tiles)

    private void tileSums(DkmLayout l, int width, long[] tiles, CuBuffer tileBuf, CuKernel kernel, Object[] args,
                          double[] result) {
        int partitions = l.partitions();
        long tileCount = tiles[partitions];
        CuBuffer partials = lane.device(Slot.DKM_PARTIALS, Math.max(8, 8 * tileCount * width));
        args[args.length - 1] = partials;
        kernel.launch(lane.stream(), tileCount, args);
        CuBuffer out = lane.device(Slot.DKM_SUMS, 8L * partitions * width);
        kernels.reduceTiles().launch(lane.stream(), blocks((long) partitions * width), partials, tileBuf, (long) partitions,
                (long) width, out);
        lane.download(out, Slot.DKM_SUMS, 8L * partitions * width);
    }

    private void readSums(double[] result, int count) {
        MemorySegment.copy(lane.staging(Slot.DKM_SUMS, 8L * count), JAVA_DOUBLE, 0, result, 0, count);
    }

    @Override
    public synchronized void attentionSums(DkmData w, DkmLayout l, DkmParams p, double[] cIn, boolean[] active, double[] sums) {
        DkmKernelArgs.requireSupported("CUDA", p);
        enter();
        long[] tiles = DkmKernelArgs.tileStarts(l, BLOCK);
        CuBuffer tileBuf = lane.upload(Slot.DKM_TILES, tiles);
        Object[] args = {DkmKernelArgs.layout(l), DkmKernelArgs.params(p), 0, upload(Slot.DKM_W, w, l.elements()), null,
                doubles(Slot.DKM_C_IN, cIn), flags(Slot.DKM_FLAGS, bytes(active)), tileBuf, (long) l.partitions(), null};
        int width = DkmPasses.sumsWidth(p);
        tileSums(l, width, tiles, tileBuf, kernels.sums(), args, sums);
        sync();
        readSums(sums, width * l.partitions());
    }

    @Override
    public synchronized void attentionApply(DkmData w, DkmData out, DkmLayout l, DkmParams p, double[] cIn, double[] cOut,
                                            boolean[] active) {
        DkmKernelArgs.requireSupported("CUDA", p);
        enter();
        boolean all = true;
        for (int part = 0; part < l.partitions(); part++) {
            all &= active[part];
        }
        // Inactive partitions keep their values: they go up with the rest and come back unchanged.
        CuBuffer outBuf = all ? lane.device(Slot.DKM_OUT, 4 * l.elements()) : upload(Slot.DKM_OUT, out, l.elements());
        long[] tiles = DkmKernelArgs.tileStarts(l, BLOCK);
        kernels.apply().launch(lane.stream(), tiles[l.partitions()], DkmKernelArgs.layout(l), DkmKernelArgs.params(p),
                upload(Slot.DKM_W, w, l.elements()), outBuf, doubles(Slot.DKM_C_IN, cIn), doubles(Slot.DKM_C_OUT, cOut),
                flags(Slot.DKM_FLAGS, bytes(active)), lane.upload(Slot.DKM_TILES, tiles), (long) l.partitions());
        download(outBuf, out, l.elements());
    }

    @Override
    public synchronized void attentionGradientSums(DkmData w, DkmData g, DkmLayout l, DkmParams p, double[] cIn,
                                                   boolean[] active, double[] sums) {
        DkmKernelArgs.requireSupported("CUDA", p);
        enter();
        long[] tiles = DkmKernelArgs.tileStarts(l, BLOCK);
        CuBuffer tileBuf = lane.upload(Slot.DKM_TILES, tiles);
        Object[] args = {DkmKernelArgs.layout(l), DkmKernelArgs.params(p), 1, upload(Slot.DKM_W, w, l.elements()),
                upload(Slot.DKM_G, g, l.elements()), doubles(Slot.DKM_C_IN, cIn), flags(Slot.DKM_FLAGS, bytes(active)),
                tileBuf, (long) l.partitions(), null};
        tileSums(l, p.k() * p.dim(), tiles, tileBuf, kernels.sums(), args, sums);
        sync();
        readSums(sums, p.k() * p.dim() * l.partitions());
    }

    @Override
    public synchronized void backwardIteration(DkmData w, DkmData g, DkmData gradIn, boolean accumulate, DkmLayout l,
                                               DkmParams p, double[] cIn, double[] cOut, double[] e, double[] f, byte[] role,
                                               double[] gcIn) {
        DkmKernelArgs.requireSupported("CUDA", p);
        enter();
        boolean anyDirect = false;
        for (int part = 0; part < l.partitions(); part++) {
            anyDirect |= role[part] == 2;
        }
        CuBuffer grad = accumulate ? upload(Slot.DKM_OUT, gradIn, l.elements()) : lane.device(Slot.DKM_OUT, 4 * l.elements());
        long[] tiles = DkmKernelArgs.tileStarts(l, BLOCK);
        CuBuffer tileBuf = lane.upload(Slot.DKM_TILES, tiles);
        Object[] args = {DkmKernelArgs.layout(l), DkmKernelArgs.params(p), upload(Slot.DKM_W, w, l.elements()),
                anyDirect ? upload(Slot.DKM_G, g, l.elements()) : null, grad, accumulate ? 1 : 0,
                doubles(Slot.DKM_C_IN, cIn), anyDirect ? doubles(Slot.DKM_C_OUT, cOut) : null, doubles(Slot.DKM_E, e),
                doubles(Slot.DKM_F, f), flags(Slot.DKM_FLAGS, role), tileBuf, (long) l.partitions(), null};
        tileSums(l, p.k() * p.dim(), tiles, tileBuf, kernels.backward(), args, gcIn);
        download(grad, gradIn, l.elements());
        readSums(gcIn, p.k() * p.dim() * l.partitions());
    }

    // ---------------------------------------------------------------- per-value passes

    /**
     * Counts (g null) or sums of g by (partition, key), order-free ({@link dev.palettizer.backend.FixedPointSums}):
     * one thread per element adding into integer tables with atomics. False when a value of w has no key.
     */
    private boolean byValue(DkmData w, DkmData g, DkmLayout l, ValueKeys keys, double[] result) {
        DkmKernelArgs.requireScalar(l);
        enter();
        long slots = 65536L * l.partitions();
        Object layout = DkmKernelArgs.layout(l);
        Object keyType = DkmKernelArgs.keys(keys);
        CuBuffer wBuf = upload(Slot.DKM_W, w, l.elements());
        CuBuffer gBuf = g == null ? null : upload(Slot.DKM_G, g, l.elements());
        CuBuffer counts = lane.device(Slot.DKM_PARTIALS, 8 * slots);
        lane.zero(counts, 8 * slots);
        CuBuffer maxBits = null;
        if (g != null) {
            maxBits = lane.device(Slot.DKM_KEY_MAX, 4 * slots);
            lane.zero(maxBits, 4 * slots);
        }
        CuBuffer failed = lane.device(Slot.DKM_FAILED, 8);
        lane.zero(failed, 8);
        kernels.keyStats().launch(lane.stream(), blocks(l.elements()), layout, wBuf, gBuf, keyType, counts, maxBits, failed);
        lane.download(failed, Slot.DKM_FAILED, 4);
        sync();
        if (lane.staging(Slot.DKM_FAILED, 4).get(JAVA_INT, 0) != 0) {
            return false;
        }
        CuBuffer sums = null;
        if (g != null) {
            sums = lane.device(Slot.DKM_KEY_SUMS, 8 * slots);
            lane.zero(sums, 8 * slots);
            kernels.fixedSums().launch(lane.stream(), blocks(l.elements()), layout, wBuf, gBuf, keyType, counts, maxBits, sums);
        }
        CuBuffer out = lane.device(Slot.DKM_SUMS, 8 * slots);
        kernels.keyResults().launch(lane.stream(), blocks(slots), counts, maxBits, sums, slots, out);
        lane.download(out, Slot.DKM_SUMS, 8 * slots);
        sync();
        readSums(result, (int) slots);
        return true;
    }

    @Override
    public synchronized boolean countValues(DkmData w, DkmLayout l, ValueKeys keys, double[] counts) {
        return byValue(w, null, l, keys, counts);
    }

    @Override
    public synchronized void sumByValue(DkmData w, DkmData g, DkmLayout l, ValueKeys keys, double[] sums) {
        if (!byValue(w, g, l, keys, sums)) {
            throw new IllegalArgumentException("sumByValue: a value of the weight has no " + keys + " key (the keys must be valid for w)");
        }
    }

    @Override
    protected void gather(DkmData w, DkmData g, DkmData out, DkmLayout l, ValueKeys keys, float[] a, float[] b) {
        DkmKernelArgs.requireScalar(l);
        enter();
        CuBuffer outBuf = lane.device(Slot.DKM_OUT, 4 * l.elements());
        kernels.gather().launch(lane.stream(), blocks(l.elements()), DkmKernelArgs.layout(l),
                upload(Slot.DKM_W, w, l.elements()), g == null ? null : upload(Slot.DKM_G, g, l.elements()),
                DkmKernelArgs.keys(keys), lane.upload(Slot.DKM_TABLE_A, a),
                b == null ? null : lane.upload(Slot.DKM_TABLE_B, b), outBuf);
        download(outBuf, out, l.elements());
    }


    @Override
    protected void closeDevice() {
        try {
            cu.makeCurrent();
            lane.idle();
        } catch (BackendException e) {
            // A failed call can leave the context in error; the memory is released all the same.
        } finally {
            lane.close();
            kernels.close();
            cu.close();
        }
    }
}
