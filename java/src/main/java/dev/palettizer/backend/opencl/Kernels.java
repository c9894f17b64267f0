package dev.palettizer.backend.opencl;

import java.util.List;

/** The entry points of kernels/opencl/palettizer.cl, built once per backend. */
record Kernels(ClProgram program, ClKernel prepare, ClKernel histogramDense, ClKernel histogramKeys,
               ClKernel histogramSorted, ClKernel assign, ClKernel centroidSums, ClKernel reduceSlots,
               ClKernel pack, ClKernel unpack, ClKernel reconstruct) implements AutoCloseable {

    /** Builds the program for the context's device with work-groups of {@code groupSize} (a power of two). */
    static Kernels build(ClContext cl, int groupSize) {
        // No -cl-fast-relaxed-math or -cl-mad-enable: the kernels must round exactly as Java does.
        ClProgram p = ClProgram.build(cl.context(), cl.device().device(), KernelSource.opencl(),
                "-cl-std=CL1.2 -D PAL_WG=" + groupSize);
        try {
            return new Kernels(p, p.kernel("pal_prepare"), p.kernel("pal_histogram_dense"),
                    p.kernel("pal_histogram_keys"), p.kernel("pal_histogram_sorted"), p.kernel("pal_assign"),
                    p.kernel("pal_centroid_sums"), p.kernel("pal_reduce_slots"), p.kernel("pal_pack"),
                    p.kernel("pal_unpack"), p.kernel("pal_reconstruct"));
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    @Override
    public void close() {
        for (ClKernel k : List.of(prepare, histogramDense, histogramKeys, histogramSorted, assign, centroidSums,
                reduceSlots, pack, unpack, reconstruct)) {
            k.close();
        }
        program.close();
    }
}
