package dev.palettizer.backend.cuda;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.BackendKernelContract;
import java.util.concurrent.ForkJoinPool;

/**
 * The kernel contract on CUDA: every kernel bit for bit against the Java reference, with a large
 * budget and with a 4 KiB one that streams many small chunks through both lanes. Needs an NVIDIA
 * GPU; elsewhere every case is skipped with the driver probe's reason (visible in the test report).
 */
class CudaKernelTest extends BackendKernelContract {
    @Override
    protected Backend create(ForkJoinPool pool, long budgetBytes) {
        return CudaTesting.backend(pool, budgetBytes);
    }

    @Override
    protected long bytesDownloaded(Backend b) {
        return ((CudaBackend) b).bytesDownloaded();
    }
}
