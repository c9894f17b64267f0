package dev.palettizer.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;

import dev.palettizer.backend.GrowOnlyPool;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * One of the backend's streams with what a chunk in flight on it owns: device buffers and pinned
 * host staging per {@link Slot}, grow-only and reused across chunks, calls and tensors. Work is
 * enqueued asynchronously; {@link #finish()} marks its end and {@link #await()} waits for it, after
 * which the lane's staging holds the chunk's results and may be refilled. Closing twice is harmless.
 */
final class Lane implements AutoCloseable {
    /** What a lane buffer holds. Device and pinned buffers of one slot are separate allocations. */
    enum Slot { RAW, SENS, X, W, INDICES, SEGMENTS, PARTIALS, PARTIAL_SUMS, PACKED, OUT, SCALES, LUT, SORTABLE, ORDER, PATTERN_VALUES, ACC,
        REDUCED, COUNTS, PATTERNS, DISTINCT, DISTINCT_VALUES, DISTINCT_WEIGHTS, KEYS, VALUES, WEIGHTS,
        /* the DKM passes (CudaDkmPasses) */
        DKM_W, DKM_G, DKM_OUT, DKM_C_IN, DKM_C_OUT, DKM_E, DKM_F, DKM_FLAGS, DKM_TILES, DKM_PARTIALS, DKM_SUMS,
        DKM_TABLE_A, DKM_TABLE_B, DKM_FAILED, DKM_KEY_MAX, DKM_KEY_SUMS, DKM_STAGE_A, DKM_STAGE_B }

    final int index;
    private final CUstream stream = new CUstream();
    private final CUevent done = new CUevent();
    private final GrowOnlyPool<Slot, CuBuffer> device = new GrowOnlyPool<>(CuBuffer::allocate, CuBuffer::bytes);
    private final GrowOnlyPool<Slot, PinnedBuffer> pinned = new GrowOnlyPool<>(PinnedBuffer::allocate, PinnedBuffer::bytes,
            PinnedBuffer.MAX_BYTES);
    private boolean open;
    private long downloaded;

    Lane(int index) {
        this.index = index;
        CuErrors.check(cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        int result = cuEventCreate(done, CUevent_flags.CU_EVENT_DISABLE_TIMING);
        if (result != 0) {
            cuStreamDestroy(stream);
            throw CuErrors.failure(result, "cuEventCreate");
        }
        open = true;
    }

    CUstream stream() {
        if (!open) {
            throw new IllegalStateException("CUDA stream used after close");
        }
        return stream;
    }

    /** The slot's device buffer, at least {@code bytes} large (contents undefined). */
    CuBuffer device(Slot slot, long bytes) {
        return device.get(slot, bytes);
    }

    /** The slot's pinned staging, exactly {@code bytes} long (contents undefined until a copy lands). */
    MemorySegment staging(Slot slot, long bytes) {
        return pinned.get(slot, bytes).segment(bytes);
    }

    /** The slot's pinned staging as JCuda sees it (for copies the lane's helpers do not cover). */
    Pointer stagingPointer(Slot slot, long bytes) {
        return pinned.get(slot, bytes).pointer();
    }

    // ---------------------------------------------------------------- copies, all asynchronous on this lane

    /** Copies the first {@code bytes} of the slot's staging to its device buffer (grown as needed). */
    CuBuffer upload(Slot slot, long bytes) {
        CuBuffer b = device(slot, bytes);
        if (bytes > 0) {
            CuErrors.check(cuMemcpyHtoDAsync(b.pointer(), pinned.get(slot, bytes).pointer(), bytes, stream()),
                    "cuMemcpyHtoDAsync(" + bytes + " bytes)");
        }
        return b;
    }

    CuBuffer upload(Slot slot, float[] src) {
        MemorySegment.copy(src, 0, staging(slot, 4L * src.length), JAVA_FLOAT, 0, src.length);
        return upload(slot, 4L * src.length);
    }

    CuBuffer upload(Slot slot, int[] src) {
        MemorySegment.copy(src, 0, staging(slot, 4L * src.length), JAVA_INT, 0, src.length);
        return upload(slot, 4L * src.length);
    }

    CuBuffer upload(Slot slot, long[] src) {
        MemorySegment.copy(src, 0, staging(slot, 8L * src.length), JAVA_LONG, 0, src.length);
        return upload(slot, 8L * src.length);
    }

    /** src[from, from + count) */
    CuBuffer upload(Slot slot, byte[] src, long from, long count) {
        MemorySegment.copy(src, Math.toIntExact(from), staging(slot, count), JAVA_BYTE, 0, Math.toIntExact(count));
        return upload(slot, count);
    }

    /** Copies the first {@code bytes} of {@code from}'s staging into {@code dst} from byte {@code offset}. */
    void copyIn(Slot from, CuBuffer dst, long offset, long bytes) {
        if (bytes > 0) {
            CuErrors.check(cuMemcpyHtoDAsync(dst.pointer().withByteOffset(offset), pinned.get(from, bytes).pointer(), bytes,
                    stream()), "cuMemcpyHtoDAsync(" + bytes + " bytes)");
        }
    }

    /** Enqueues a copy of the first {@code bytes} of {@code src} into the {@code into} slot's staging; read it after {@link #await()}. */
    void download(CuBuffer src, Slot into, long bytes) {
        download(src, 0, into, bytes);
    }

    /** As {@link #download(CuBuffer, Slot, long)}, of the bytes of {@code src} from byte {@code offset}. */
    void download(CuBuffer src, long offset, Slot into, long bytes) {
        if (bytes > 0) {
            CuErrors.check(cuMemcpyDtoHAsync(pinned.get(into, bytes).pointer(), src.pointer().withByteOffset(offset), bytes,
                    stream()), "cuMemcpyDtoHAsync(" + bytes + " bytes)");
            downloaded += bytes;
        }
    }

    /** Bytes of the device-to-host copies enqueued on this lane so far. */
    long downloaded() {
        return downloaded;
    }

    /** After {@link #await()}: the first {@code count} values of a downloaded slot. */
    double[] doubles(Slot slot, long count) {
        return read(slot, JAVA_DOUBLE, count).toArray(JAVA_DOUBLE);
    }

    int[] ints(Slot slot, long count) {
        return read(slot, JAVA_INT, count).toArray(JAVA_INT);
    }

    float[] floats(Slot slot, long count) {
        return read(slot, JAVA_FLOAT, count).toArray(JAVA_FLOAT);
    }

    MemorySegment read(Slot slot, ValueLayout layout, long count) {
        return staging(slot, layout.byteSize() * count);
    }

    /** Sets the first {@code bytes} (a multiple of 4) of {@code b} to zero. */
    void zero(CuBuffer b, long bytes) {
        zero(b, 0, bytes);
    }

    /** Sets {@code bytes} (a multiple of 4) of {@code b} from byte {@code from} (a multiple of 4) to zero. */
    void zero(CuBuffer b, long from, long bytes) {
        if (bytes > 0) {
            CuErrors.check(cuMemsetD32Async(b.pointer().withByteOffset(from), 0, bytes / 4, stream()),
                    "cuMemsetD32Async(" + bytes + " bytes)");
        }
    }

    // ---------------------------------------------------------------- ordering

    /** Later work on this lane waits for everything enqueued on {@code other} before its last {@link #finish()}. */
    void after(Lane other) {
        CuErrors.check(cuStreamWaitEvent(stream(), other.done, 0), "cuStreamWaitEvent");
    }

    /** Marks the end of the work enqueued so far. */
    void finish() {
        CuErrors.check(cuEventRecord(done, stream()), "cuEventRecord");
    }

    /** Blocks until the work before the last {@link #finish()} is done (at once if there was none). */
    void await() {
        CuErrors.check(cuEventSynchronize(done), "cuEventSynchronize");
    }

    /**
     * Blocks until everything enqueued on the lane is done, including work after its last
     * {@link #finish()} (a call that failed between enqueueing and finishing leaves such work).
     */
    void idle() {
        CuErrors.check(cuStreamSynchronize(stream()), "cuStreamSynchronize");
    }

    @Override
    public void close() {
        if (open) {
            open = false;
            device.close();
            pinned.close();
            cuEventDestroy(done);
            cuStreamDestroy(stream);
        }
    }
}
