package dev.palettizer.backend.cuda;

/**
 * The entry points of kernels/cuda/palettizer.cu, looked up once per backend; the same names and
 * argument lists as kernels/opencl/palettizer.cl.
 */
record Kernels(CuModule module, CuKernel prepare, CuKernel histogramDense, CuKernel histogramKeys,
               CuKernel histogramSorted, CuKernel assign, CuKernel centroidSums, CuKernel reduceSlots,
               CuKernel pack, CuKernel unpack, CuKernel reconstruct, CuKernel compactCount,
               CuKernel compact, CuKernel foldCount, CuKernel fold) implements AutoCloseable {

    /** The entry point names, in the order of the record's components. */
    static final String[] NAMES = {"pal_prepare", "pal_histogram_dense", "pal_histogram_keys", "pal_histogram_sorted",
        "pal_assign", "pal_centroid_sums", "pal_reduce_slots", "pal_pack", "pal_unpack", "pal_reconstruct", "pal_compact_count", "pal_compact", "pal_fold_count",
        "pal_fold"};

    /** Loads the fatbin into the current context. */
    static Kernels load(byte[] fatbin) {
        CuModule m = new CuModule(fatbin);
        try {
            CuKernel[] k = new CuKernel[NAMES.length];
            for (int i = 0; i < k.length; i++) {
                k[i] = m.kernel(NAMES[i]);
            }
            return new Kernels(m, k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8], k[9], k[10], k[11], k[12], k[13]);
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
