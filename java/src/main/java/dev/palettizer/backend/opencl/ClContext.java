package dev.palettizer.backend.opencl;

import static org.lwjgl.opencl.CL10.CL_CONTEXT_PLATFORM;
import static org.lwjgl.opencl.CL10.clCreateCommandQueue;
import static org.lwjgl.opencl.CL10.clCreateContext;
import static org.lwjgl.opencl.CL10.clEnqueueNDRangeKernel;
import static org.lwjgl.opencl.CL10.clFinish;
import static org.lwjgl.opencl.CL10.clReleaseCommandQueue;
import static org.lwjgl.opencl.CL10.clReleaseContext;
import static org.lwjgl.opencl.CL10.nclEnqueueReadBuffer;
import static org.lwjgl.opencl.CL10.nclEnqueueWriteBuffer;
import static org.lwjgl.opencl.CL12.nclEnqueueFillBuffer;

import java.lang.foreign.MemorySegment;
import java.nio.IntBuffer;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;

/**
 * A context and an in-order command queue on one device, with the transfers and launches the
 * backend uses. Transfers are blocking and read from or write to native memory only (LWJGL must
 * never see heap buffers). Closing twice is harmless.
 */
final class ClContext implements AutoCloseable {
    private final OpenClDevice device;
    private long context;
    private long queue;

    ClContext(OpenClDevice device) {
        this.device = device;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            PointerBuffer props = stack.mallocPointer(3).put(CL_CONTEXT_PLATFORM).put(device.platform()).put(0L).flip();
            context = clCreateContext(props, device.device(), null, 0L, err);
            ClErrors.check(err.get(0), "clCreateContext(" + device.name() + ")");
            queue = clCreateCommandQueue(context, device.device(), 0L, err);
            if (err.get(0) != 0) {
                int code = err.get(0);
                close();
                throw ClErrors.failure(code, "clCreateCommandQueue(" + device.name() + ")");
            }
        }
    }

    OpenClDevice device() {
        return device;
    }

    long context() {
        if (context == 0) {
            throw new IllegalStateException("OpenCL context used after close");
        }
        return context;
    }

    private long queue() {
        if (queue == 0) {
            throw new IllegalStateException("OpenCL queue used after close");
        }
        return queue;
    }

    void write(ClBuffer dst, long dstOffset, MemorySegment src, long bytes) {
        checkRange(src, bytes);
        ClErrors.check(nclEnqueueWriteBuffer(queue(), dst.handle(), 1, dstOffset, bytes, src.address(), 0, 0L, 0L),
                "clEnqueueWriteBuffer(" + bytes + " bytes)");
    }

    void read(ClBuffer src, long srcOffset, MemorySegment dst, long bytes) {
        checkRange(dst, bytes);
        ClErrors.check(nclEnqueueReadBuffer(queue(), src.handle(), 1, srcOffset, bytes, dst.address(), 0, 0L, 0L),
                "clEnqueueReadBuffer(" + bytes + " bytes)");
    }

    private static void checkRange(MemorySegment host, long bytes) {
        if (!host.isNative() || bytes > host.byteSize()) {
            throw new IllegalArgumentException("transfer of " + bytes + " bytes needs a native segment at least that large");
        }
    }

    /** Sets the first {@code bytes} (a multiple of 8) of {@code dst} to zero. */
    void zero(ClBuffer dst, long bytes) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            long pattern = stack.nlong(0L);
            ClErrors.check(nclEnqueueFillBuffer(queue(), dst.handle(), pattern, 8, 0, bytes, 0, 0L, 0L),
                    "clEnqueueFillBuffer(" + bytes + " bytes)");
        }
    }

    /** Launches {@code groups} work-groups of {@code groupSize} work-items. */
    void launch(ClKernel kernel, long groups, int groupSize) {
        if (groups == 0) {
            return;
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer global = stack.pointers(groups * groupSize);
            PointerBuffer local = stack.pointers(groupSize);
            ClErrors.check(clEnqueueNDRangeKernel(queue(), kernel.handle(), 1, null, global, local, null, null),
                    "clEnqueueNDRangeKernel(" + kernel.name() + ", " + groups + " x " + groupSize + ")");
        }
    }

    void finish() {
        ClErrors.check(clFinish(queue()), "clFinish");
    }

    @Override
    public void close() {
        if (queue != 0) {
            clReleaseCommandQueue(queue);
            queue = 0;
        }
        if (context != 0) {
            clReleaseContext(context);
            context = 0;
        }
    }
}
