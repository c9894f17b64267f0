package dev.palettizer.backend.opencl;

import dev.palettizer.backend.DkmPasses;
import dev.palettizer.backend.DkmPassesContract;
import org.junit.jupiter.api.AfterAll;

/** The DKM kernels on the default OpenCL device (PoCL in CI) against the Java passes; see {@link DkmPassesContract}. */
class OpenClDkmPassesTest extends DkmPassesContract {
    private static OpenClDkmPasses passes;

    @Override
    protected DkmPasses passes() {
        if (passes == null) {
            passes = new OpenClDkmPasses(OpenClTesting.device(), 2);
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
