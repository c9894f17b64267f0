package dev.palettizer.backend.opencl;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** The DKM entry points of kernels/opencl/palettizer.cl (logic in kernels/common/dkm_core.h), built once per {@link OpenClDkmPasses}. */
record DkmKernels(ClProgram program, ClKernel sums, ClKernel reduceTiles, ClKernel apply, ClKernel backward, ClKernel keyStats,
                  ClKernel fixedSums, ClKernel keyResults, ClKernel gather) implements AutoCloseable {

    /** Builds the program for the context's device with work-groups of {@code groupSize} (a power of two). */
    static DkmKernels build(ClContext cl, int groupSize) {
        // No -cl-fast-relaxed-math or -cl-mad-enable: the per-point math must round as DkmPointMath does.
        ClProgram p = ClProgram.build(cl.context(), cl.device().device(), KernelSource.opencl(),
                "-cl-std=CL1.2 -D PAL_WG=" + groupSize);
        List<ClKernel> made = new ArrayList<>();
        Function<String, ClKernel> kernel = name -> {
            ClKernel k = p.kernel(name);
            made.add(k);
            return k;
        };
        try {
            return new DkmKernels(p, kernel.apply("pal_dkm_sums"), kernel.apply("pal_dkm_reduce_tiles"), kernel.apply("pal_dkm_apply"),
                    kernel.apply("pal_dkm_backward"), kernel.apply("pal_dkm_key_stats"), kernel.apply("pal_dkm_fixed_sums"),
                    kernel.apply("pal_dkm_key_results"), kernel.apply("pal_dkm_gather"));
        } catch (RuntimeException e) {
            made.forEach(ClKernel::close);
            p.close();
            throw e;
        }
    }

    @Override
    public void close() {
        for (ClKernel k : List.of(sums, reduceTiles, apply, backward, keyStats, fixedSums, keyResults, gather)) {
            k.close();
        }
        program.close();
    }
}
