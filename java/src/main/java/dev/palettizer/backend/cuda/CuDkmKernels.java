package dev.palettizer.backend.cuda;

/** The DKM entry points of kernels/cuda/palettizer.cu (logic in kernels/common/dkm_core.h), the same names and arguments as on OpenCL. */
record CuDkmKernels(CuModule module, CuKernel sums, CuKernel reduceTiles, CuKernel apply, CuKernel backward, CuKernel keyStats,
                    CuKernel fixedSums, CuKernel keyResults, CuKernel gather) implements AutoCloseable {

    /** The entry point names, in the order of the record's components. */
    static final String[] NAMES = {"pal_dkm_sums", "pal_dkm_reduce_tiles", "pal_dkm_apply", "pal_dkm_backward", "pal_dkm_key_stats",
        "pal_dkm_fixed_sums", "pal_dkm_key_results", "pal_dkm_gather"};

    /** Loads the fatbin into the current context. */
    static CuDkmKernels load(byte[] fatbin) {
        CuModule m = new CuModule(fatbin);
        try {
            CuKernel[] k = new CuKernel[NAMES.length];
            for (int i = 0; i < k.length; i++) {
                k[i] = m.kernel(NAMES[i]);
            }
            return new CuDkmKernels(m, k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    @Override
    public void close() {
        module.close();
    }
}
