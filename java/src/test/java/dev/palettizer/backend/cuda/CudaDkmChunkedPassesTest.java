package dev.palettizer.backend.cuda;

import dev.palettizer.backend.DkmPasses;
import dev.palettizer.backend.DkmPassesContract;
import org.junit.jupiter.api.AfterAll;

/**
 * {@link DkmPassesContract} with per-element arrays moved in chunks of {@value #CHUNK} elements, so that every
 * case crosses chunk boundaries and alternates the two pinned stagings, as tensors over a chunk (32 Mi elements)
 * do. Skipped where there is no CUDA driver.
 */
class CudaDkmChunkedPassesTest extends DkmPassesContract {
    private static final long CHUNK = 1000;
    private static CudaDkmPasses passes;

    @Override
    protected DkmPasses passes() {
        if (passes == null) {
            CudaTesting.requireDevice();
            passes = new CudaDkmPasses(0, 2, CHUNK);
        }
        return passes;
    }

    @AfterAll
    static void close() {
        if (passes != null) {
            passes.close();
            passes = null;
        }
    }
}
