package dev.palettizer.backend.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;

import jcuda.driver.CUdeviceptr;

/** One device allocation. Closing twice is harmless; using it after close fails. */
final class CuBuffer implements AutoCloseable {
    private final CUdeviceptr pointer;
    private final long bytes;
    private boolean freed;

    private CuBuffer(CUdeviceptr pointer, long bytes) {
        this.pointer = pointer;
        this.bytes = bytes;
    }

    static CuBuffer allocate(long bytes) {
        CUdeviceptr p = new CUdeviceptr();
        CuErrors.check(cuMemAlloc(p, bytes), "cuMemAlloc(" + bytes + " bytes)");
        return new CuBuffer(p, bytes);
    }

    CUdeviceptr pointer() {
        if (freed) {
            throw new IllegalStateException("CUDA buffer used after close");
        }
        return pointer;
    }

    long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            cuMemFree(pointer);
        }
    }
}
