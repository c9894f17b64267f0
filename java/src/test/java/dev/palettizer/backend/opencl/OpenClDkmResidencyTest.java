package dev.palettizer.backend.opencl;

import dev.palettizer.backend.DkmPasses;
import dev.palettizer.backend.DkmResidencyContract;
import org.junit.jupiter.api.AfterAll;

/** Step residency of the OpenCL DKM passes on the default device (PoCL in CI); see {@link DkmResidencyContract}. */
class OpenClDkmResidencyTest extends DkmResidencyContract {
    private static OpenClDkmPasses passes;

    @Override
    protected DkmPasses passes() {
        if (passes == null) {
            passes = new OpenClDkmPasses(OpenClTesting.device(), 1);
        }
        return passes;
    }

    @Override
    protected long bytesUploaded() {
        return passes.bytesUploaded();
    }

    @AfterAll
    static void close() {
        if (passes != null) {
            passes.close();
            passes = null;
        }
    }
}
