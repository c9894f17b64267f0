package dev.palettizer.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;

/**
 * The primary context of one device, retained while the backend lives. The current context is
 * per thread, and the engine calls the backend from its worker threads, so every entry point calls
 * {@link #makeCurrent()} first. Closing releases the retain once; closing twice is harmless.
 */
final class CuContext implements AutoCloseable {
    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private boolean retained;

    CuContext(int ordinal) {
        this.ordinal = ordinal;
        CuErrors.check(cuInit(0), "cuInit");
        CuErrors.check(cuDeviceGet(device, ordinal), "cuDeviceGet(" + ordinal + ")");
        CuErrors.check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain(" + ordinal + ")");
        retained = true;
        makeCurrent();
    }

    /** Makes the primary context current in the calling thread. */
    void makeCurrent() {
        if (!retained) {
            throw new IllegalStateException("CUDA context of device " + ordinal + " used after close");
        }
        CuErrors.check(cuCtxSetCurrent(context), "cuCtxSetCurrent(device " + ordinal + ")");
    }

    /** Free and total device memory in bytes, as the driver reports them now. */
    long[] memoryInfo() {
        long[] free = new long[1];
        long[] total = new long[1];
        CuErrors.check(cuMemGetInfo(free, total), "cuMemGetInfo");
        return new long[] {free[0], total[0]};
    }

    @Override
    public void close() {
        if (retained) {
            retained = false;
            cuDevicePrimaryCtxRelease(device);
        }
    }
}
