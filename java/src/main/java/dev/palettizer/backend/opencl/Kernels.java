package dev.palettizer.backend.opencl;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** The entry points of kernels/opencl/palettizer.cl, built once per backend. */
record Kernels(ClProgram program, ClKernel prepare, ClKernel histogramDense, ClKernel histogramKeys,
               ClKernel histogramSorted, ClKernel assign, ClKernel centroidSums, ClKernel reduceSlots,
               ClKernel pack, ClKernel unpack, ClKernel reconstruct, ClKernel compactCount,
               ClKernel compact, ClKernel foldCount, ClKernel fold) implements AutoCloseable {

    /** Builds the program for the context's device with work-groups of {@code groupSize} (a power of two). */
    static Kernels build(ClContext cl, int groupSize) {
        // No -cl-fast-relaxed-math or -cl-mad-enable: the kernels must round exactly as Java does.
        ClProgram p = ClProgram.build(cl.context(), cl.device().device(), KernelSource.opencl(),
                "-cl-std=CL1.2 -D PAL_WG=" + groupSize);
        List<ClKernel> made = new ArrayList<>();
        Function<String, ClKernel> kernel = name -> {
            ClKernel k = p.kernel(name);
            made.add(k);
            return k;
        };
        try {
            return new Kernels(p, kernel.apply("pal_prepare"), kernel.apply("pal_histogram_dense"),
                    kernel.apply("pal_histogram_keys"), kernel.apply("pal_histogram_sorted"), kernel.apply("pal_assign"),
                    kernel.apply("pal_centroid_sums"), kernel.apply("pal_reduce_slots"), kernel.apply("pal_pack"),
                    kernel.apply("pal_unpack"), kernel.apply("pal_reconstruct"), kernel.apply("pal_compact_count"),
                    kernel.apply("pal_compact"), kernel.apply("pal_fold_count"), kernel.apply("pal_fold"));
        } catch (RuntimeException e) {
            made.forEach(ClKernel::close);
            p.close();
            throw e;
        }
    }

    @Override
    public void close() {
        for (ClKernel k : List.of(prepare, histogramDense, histogramKeys, histogramSorted, assign, centroidSums,
                reduceSlots, pack, unpack, reconstruct, compactCount, compact, foldCount, fold)) {
            k.close();
        }
        program.close();
    }
}
