package dev.palettizer.backend.cuda;

import dev.palettizer.backend.DkmPasses;
import dev.palettizer.backend.DkmPassesContract;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;

/**
 * The DKM kernels of the prebuilt fatbin against the Java passes, through {@link CudaBackend#dkmPasses()};
 * see {@link DkmPassesContract} for the cases and tolerances. Skipped where there is no CUDA driver.
 */
class CudaDkmPassesTest extends DkmPassesContract {
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
