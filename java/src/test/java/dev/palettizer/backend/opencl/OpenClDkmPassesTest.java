package dev.palettizer.backend.opencl;

import dev.palettizer.backend.DkmPasses;
import dev.palettizer.backend.DkmPassesContract;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;

/**
 * The DKM kernels on the default OpenCL device (PoCL in CI) against the Java passes, through
 * {@link OpenClBackend#dkmPasses()}; see {@link DkmPassesContract} for the cases and tolerances.
 */
class OpenClDkmPassesTest extends DkmPassesContract {
    private static ForkJoinPool pool;
    private static OpenClBackend backend;

    @Override
    protected DkmPasses passes() {
        if (backend == null) {
            pool = new ForkJoinPool(2);
            backend = new OpenClBackend(OpenClTesting.device(), pool, 64L << 20);
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
