package dev.palettizer.backend.opencl;

import static org.lwjgl.opencl.CL10.CL_MEM_READ_WRITE;
import static org.lwjgl.opencl.CL10.clCreateBuffer;
import static org.lwjgl.opencl.CL10.clReleaseMemObject;

import java.nio.IntBuffer;
import org.lwjgl.system.MemoryStack;

/** One device buffer (cl_mem). Closing twice is harmless; using it after close fails. */
final class ClBuffer implements AutoCloseable {
    private long handle;
    private final long bytes;

    private ClBuffer(long handle, long bytes) {
        this.handle = handle;
        this.bytes = bytes;
    }

    static ClBuffer allocate(long context, long bytes) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long h = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, err);
            ClErrors.check(err.get(0), "clCreateBuffer(" + bytes + " bytes)");
            return new ClBuffer(h, bytes);
        }
    }

    long handle() {
        if (handle == 0) {
            throw new IllegalStateException("OpenCL buffer used after close");
        }
        return handle;
    }

    long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        if (handle != 0) {
            clReleaseMemObject(handle);
            handle = 0;
        }
    }
}
