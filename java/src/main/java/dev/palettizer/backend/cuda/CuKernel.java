package dev.palettizer.backend.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;

/**
 * One entry point of the module, launched with blocks of exactly {@link CudaBackend#BLOCK} threads
 * (the PAL_WG the fatbin was built with) on a one-dimensional grid, as its OpenCL twin.
 */
record CuKernel(String name, CUfunction function) {
    /** The grid's x dimension is a signed int. */
    static final long MAX_BLOCKS = Integer.MAX_VALUE;

    /**
     * Launches {@code blocks} blocks on {@code stream} with the arguments in order: a {@link CuBuffer},
     * {@code null} for an absent buffer (the kernel sees NULL), an Integer (int), a Long (long long),
     * or a long[] passed by value as a struct of long longs (pal_layout).
     */
    void launch(CUstream stream, long blocks, Object... args) {
        if (blocks == 0) {
            return;
        }
        if (blocks > MAX_BLOCKS) {
            throw new IllegalArgumentException("kernel " + name + ": " + blocks + " blocks exceed the grid limit "
                    + MAX_BLOCKS);
        }
        NativePointerObject[] params = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case null -> Pointer.to(new long[] {0L});
                case CuBuffer b -> Pointer.to(b.pointer());
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case long[] struct -> Pointer.to(struct);
                default -> throw new IllegalArgumentException("kernel " + name + " argument " + i
                        + ": unsupported type " + args[i].getClass().getName());
            };
        }
        CuErrors.check(cuLaunchKernel(function, (int) blocks, 1, 1, CudaBackend.BLOCK, 1, 1, 0, stream,
                Pointer.to(params), null), "cuLaunchKernel(" + name + ", " + blocks + " x " + CudaBackend.BLOCK + ")");
    }
}
