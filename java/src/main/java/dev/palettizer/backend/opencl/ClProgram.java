package dev.palettizer.backend.opencl;

import static org.lwjgl.opencl.CL10.CL_PROGRAM_BUILD_LOG;
import static org.lwjgl.opencl.CL10.clBuildProgram;
import static org.lwjgl.opencl.CL10.clCreateKernel;
import static org.lwjgl.opencl.CL10.clCreateProgramWithSource;
import static org.lwjgl.opencl.CL10.clGetProgramBuildInfo;
import static org.lwjgl.opencl.CL10.clReleaseProgram;

import dev.palettizer.backend.BackendException;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

/** A program built from source for one device. Closing twice is harmless. */
final class ClProgram implements AutoCloseable {
    private long handle;

    private ClProgram(long handle) {
        this.handle = handle;
    }

    /** Builds {@code source} with {@code options}; a failed build's exception carries the compiler log. */
    static ClProgram build(long context, long device, String source, String options) {
        long h;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            h = clCreateProgramWithSource(context, source, err);
            ClErrors.check(err.get(0), "clCreateProgramWithSource");
        }
        ClProgram program = new ClProgram(h);
        int code = clBuildProgram(h, device, options, null, 0L);
        if (code != 0) {
            String log = buildLog(h, device);
            program.close();
            throw new BackendException(ClErrors.status(code), "OpenCL clBuildProgram failed with " + ClErrors.name(code)
                    + " (" + code + "); compiler log:\n" + log);
        }
        return program;
    }

    private static String buildLog(long program, long device) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, (ByteBuffer) null, size) != 0) {
                return "(no build log)";
            }
            ByteBuffer log = MemoryUtil.memAlloc((int) size.get(0));
            try {
                clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, log, null);
                byte[] bytes = new byte[Math.max(0, log.remaining() - 1)];
                log.get(bytes);
                return new String(bytes, StandardCharsets.UTF_8).strip();
            } finally {
                MemoryUtil.memFree(log);
            }
        }
    }

    ClKernel kernel(String name) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long k = clCreateKernel(handle(), name, err);
            ClErrors.check(err.get(0), "clCreateKernel(" + name + ")");
            return new ClKernel(name, k);
        }
    }

    private long handle() {
        if (handle == 0) {
            throw new IllegalStateException("OpenCL program used after close");
        }
        return handle;
    }

    @Override
    public void close() {
        if (handle != 0) {
            clReleaseProgram(handle);
            handle = 0;
        }
    }
}
