package dev.palettizer.backend.cuda;

import dev.palettizer.backend.BackendRequest;
import dev.palettizer.nativeloader.Availability;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Assumptions;

/** The CUDA device tests run on; on a machine without one, the calling test is skipped with the probe's reason. */
final class CudaTesting {
    private CudaTesting() {}

    /** Skips the calling test unless a usable CUDA device and JCuda's natives are here. */
    static void requireDevice() {
        Availability a = new CudaBackendProvider().availability();
        Assumptions.assumeTrue(a.available(), () -> "CUDA tests skipped: " + a.detail());
    }

    /** A backend on the default device (or -Dpalettizer.test.cuda.device) with the given budget (0: the default). */
    static CudaBackend backend(ForkJoinPool pool, long budgetBytes) {
        requireDevice();
        return new CudaBackendProvider().create(new BackendRequest(pool, System.getProperty("palettizer.test.cuda.device")),
                budgetBytes);
    }
}
