package dev.palettizer.backend;

import java.util.function.IntConsumer;

/**
 * What the device DKM passes (OpenCL, CUDA) share around their kernels: the passes that stay on the host
 * ({@link #assign}, once at export; {@link #firstNonFinite}, a check; the engine's per-value table algebra in
 * {@link #forEachBlock}) run through {@link JavaDkmPasses}; a step's resident copies are kept by
 * {@link DkmTransfers}; both gathers go through one {@link #gather}; and closing happens once.
 *
 * @param <S> the device's buffer slots
 */
public abstract class DeviceDkmPasses<S extends Enum<S>> implements DkmPasses, AutoCloseable {
    protected final JavaDkmPasses hostPasses;
    protected final DkmTransfers<S> transfers;
    private final String device;
    private boolean closed;

    /**
     * @param device      the device's name in the error for use after close
     * @param hostThreads threads of the host-side passes
     * @param chunk       elements per staged chunk of per-element arrays (small in tests, to cross chunk boundaries)
     */
    protected DeviceDkmPasses(String device, Class<S> slots, int hostThreads, long chunk) {
        this.device = device;
        this.hostPasses = new JavaDkmPasses(hostThreads);
        this.transfers = new DkmTransfers<>(slots, hostPasses::forEachBlock, chunk);
    }

    protected final void open() {
        if (closed) {
            throw new IllegalStateException(device + " DKM passes used after close");
        }
    }

    /** {@code out_i = a[key] * g_i + b[key]}, or {@code a[key]} when {@code g} and {@code b} are null. */
    protected abstract void gather(DkmData w, DkmData g, DkmData out, DkmLayout l, ValueKeys keys, float[] a, float[] b);

    /** Releases the device's resources; called once, after the host passes are closed. */
    protected abstract void closeDevice();

    @Override
    public final synchronized void gatherByValue(DkmData w, DkmData out, DkmLayout l, ValueKeys keys, float[] table) {
        open();
        gather(w, null, out, l, keys, table, null);
    }

    @Override
    public final synchronized void gatherGradientByValue(DkmData w, DkmData g, DkmData gradIn, DkmLayout l,
                                                         ValueKeys keys, float[] a, float[] b) {
        open();
        gather(w, g, gradIn, l, keys, a, b);
    }

    @Override
    public final synchronized void beginStep(DkmData w, DkmData g) {
        open();
        transfers.beginStep(w, g);
    }

    @Override
    public final synchronized void endStep() {
        transfers.endStep();
    }

    /** Bytes of per-element data (weights, gradients, outputs to update) copied to the device so far (for measuring transfers). */
    public final synchronized long bytesUploaded() {
        return transfers.bytesUploaded();
    }

    @Override
    public final void assign(DkmData w, DkmLayout l, DkmParams p, double[] c, IndexSink indices) {
        hostPasses.assign(w, l, p, c, indices);
    }

    @Override
    public final long firstNonFinite(DkmData data) {
        return hostPasses.firstNonFinite(data);
    }

    /** The engine's per-value table algebra runs on the host threads, as with the Java passes. */
    @Override
    public final void forEachBlock(int count, IntConsumer task) {
        hostPasses.forEachBlock(count, task);
    }

    @Override
    public final synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        endStep();
        hostPasses.close();
        closeDevice();
    }
}
