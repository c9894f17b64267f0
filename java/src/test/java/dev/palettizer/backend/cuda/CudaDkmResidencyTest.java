package dev.palettizer.backend.cuda;

import dev.palettizer.backend.DkmPasses;
import dev.palettizer.backend.DkmResidencyContract;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;

/** Step residency of the CUDA DKM passes; see {@link DkmResidencyContract}. Skipped where there is no CUDA driver. */
class CudaDkmResidencyTest extends DkmResidencyContract {
    private static ForkJoinPool pool;
    private static CudaBackend backend;

    @Override
    protected DkmPasses passes() {
        if (backend == null) {
            pool = new ForkJoinPool(2);
            backend = CudaTesting.backend(pool, 0);
        }
        return backend.dkmPasses();
    }

    @Override
    protected long bytesUploaded() {
        return ((CudaDkmPasses) backend.dkmPasses()).bytesUploaded();
    }

    @AfterAll
    static void close() {
        if (backend != null) {
            backend.close();
            backend = null;
        }
        if (pool != null) {
            pool.shutdown();
            pool = null;
        }
    }
}
