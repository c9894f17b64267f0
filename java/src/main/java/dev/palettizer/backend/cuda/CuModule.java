package dev.palettizer.backend.cuda;

import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

/** A module loaded into the current context from a fatbin image. Closing twice is harmless. */
final class CuModule implements AutoCloseable {
    private final CUmodule module = new CUmodule();
    private boolean loaded;

    /** Loads {@code image} as it is: fatbin bytes need no terminator (only PTX text does). */
    CuModule(byte[] image) {
        CuErrors.check(cuModuleLoadData(module, image), "cuModuleLoadData(" + image.length + " byte fatbin)");
        loaded = true;
    }

    CuKernel kernel(String name) {
        if (!loaded) {
            throw new IllegalStateException("CUDA module used after close");
        }
        CUfunction f = new CUfunction();
        CuErrors.check(cuModuleGetFunction(f, module, name), "cuModuleGetFunction(" + name + ")");
        return new CuKernel(name, f);
    }

    @Override
    public void close() {
        if (loaded) {
            loaded = false;
            cuModuleUnload(module);
        }
    }
}
