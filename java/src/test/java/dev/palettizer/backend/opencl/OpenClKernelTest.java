package dev.palettizer.backend.opencl;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.BackendKernelContract;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.BeforeAll;

/** The kernel contract on OpenCL (PoCL's CPU device in CI): every kernel bit for bit against the Java reference. */
class OpenClKernelTest extends BackendKernelContract {
    @BeforeAll
    static void needsOpenCl() {
        OpenClTesting.device();
    }

    @Override
    protected Backend create(ForkJoinPool pool, long budgetBytes) {
        return new OpenClBackend(OpenClTesting.device(), pool, budgetBytes);
    }

    @Override
    protected long bytesDownloaded(Backend b) {
        return ((OpenClBackend) b).bytesDownloaded();
    }
}
