package dev.palettizer.backend.opencl;

import dev.palettizer.backend.DkmPasses;
import dev.palettizer.backend.DkmPassesContract;
import org.junit.jupiter.api.AfterAll;

/**
 * {@link DkmPassesContract} on the default OpenCL device with per-element arrays moved in chunks of
 * {@value #CHUNK} elements, so that every case crosses chunk boundaries, as tensors over a chunk (32 Mi elements) do.
 */
class OpenClDkmChunkedPassesTest extends DkmPassesContract {
    private static final long CHUNK = 1000;
    private static OpenClDkmPasses passes;

    @Override
    protected DkmPasses passes() {
        if (passes == null) {
            passes = new OpenClDkmPasses(OpenClTesting.device(), 2, CHUNK);
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
