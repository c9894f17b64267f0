package dev.palettizer.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import jcuda.Pointer;

/**
 * Page-locked host memory (cuMemAllocHost): the staging that asynchronous copies need to overlap
 * kernels. Seen from Java as a native {@link MemorySegment}; at most 2 GiB (a direct buffer's
 * limit), which the backend's chunk sizes stay well under. Closing twice is harmless.
 */
final class PinnedBuffer implements AutoCloseable {
    /** A direct buffer's capacity is an int. */
    static final long MAX_BYTES = Integer.MAX_VALUE;

    private final Pointer pointer;
    private final MemorySegment segment;
    private boolean freed;

    private PinnedBuffer(Pointer pointer, MemorySegment segment) {
        this.pointer = pointer;
        this.segment = segment;
    }

    static PinnedBuffer allocate(long bytes) {
        if (bytes > MAX_BYTES) {
            throw new IllegalArgumentException("pinned staging of " + bytes + " bytes exceeds " + MAX_BYTES);
        }
        Pointer p = new Pointer();
        CuErrors.check(cuMemAllocHost(p, bytes), "cuMemAllocHost(" + bytes + " bytes)");
        // JCuda attaches a direct buffer over the allocation to the pointer.
        ByteBuffer view = p.getByteBuffer(0, bytes);
        if (view == null) {
            cuMemFreeHost(p);
            throw new IllegalStateException("JCuda gave no host view of cuMemAllocHost memory (" + bytes + " bytes)");
        }
        return new PinnedBuffer(p, MemorySegment.ofBuffer(view));
    }

    /** The first {@code bytes} of the buffer. */
    MemorySegment segment(long bytes) {
        live();
        return segment.asSlice(0, bytes);
    }

    Pointer pointer() {
        live();
        return pointer;
    }

    long bytes() {
        return segment.byteSize();
    }

    private void live() {
        if (freed) {
            throw new IllegalStateException("pinned buffer used after close");
        }
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            cuMemFreeHost(pointer);
        }
    }
}
