package dev.palettizer.backend.opencl;

import static org.lwjgl.opencl.CL10.clReleaseKernel;
import static org.lwjgl.opencl.CL10.clSetKernelArg;
import static org.lwjgl.opencl.CL10.clSetKernelArg1i;
import static org.lwjgl.opencl.CL10.clSetKernelArg1l;
import static org.lwjgl.opencl.CL10.clSetKernelArg1p;

import org.lwjgl.system.MemoryStack;

/** One kernel of a built program. Closing twice is harmless. */
final class ClKernel implements AutoCloseable {
    private final String name;
    private long handle;

    ClKernel(String name, long handle) {
        this.name = name;
        this.handle = handle;
    }

    String name() {
        return name;
    }

    long handle() {
        if (handle == 0) {
            throw new IllegalStateException("OpenCL kernel " + name + " used after close");
        }
        return handle;
    }

    /**
     * Sets all arguments in order: a {@link ClBuffer}, {@code null} for an absent buffer (the kernel
     * sees NULL), an Integer (int), a Long (long), or a long[] passed by value as a struct of longs.
     */
    ClKernel args(Object... values) {
        for (int i = 0; i < values.length; i++) {
            int code = switch (values[i]) {
                case null -> clSetKernelArg1p(handle(), i, 0L);
                case ClBuffer b -> clSetKernelArg1p(handle(), i, b.handle());
                case Integer v -> clSetKernelArg1i(handle(), i, v);
                case Long v -> clSetKernelArg1l(handle(), i, v);
                case long[] struct -> {
                    try (MemoryStack stack = MemoryStack.stackPush()) {
                        yield clSetKernelArg(handle(), i, stack.longs(struct));
                    }
                }
                default -> throw new IllegalArgumentException("kernel " + name + " argument " + i + ": unsupported type "
                        + values[i].getClass().getName());
            };
            ClErrors.check(code, "clSetKernelArg(" + name + ", " + i + ")");
        }
        return this;
    }

    @Override
    public void close() {
        if (handle != 0) {
            clReleaseKernel(handle);
            handle = 0;
        }
    }
}
