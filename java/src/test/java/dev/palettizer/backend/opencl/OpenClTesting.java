package dev.palettizer.backend.opencl;

import dev.palettizer.nativeloader.Availability;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/** The OpenCL device tests run on; on a machine without one, the calling test is skipped with the reason. */
final class OpenClTesting {
    private OpenClTesting() {}

    /** The provider's default device, or the one named by -Dpalettizer.test.opencl.device. */
    static OpenClDevice device() {
        Availability library = ClLibrary.availability();
        Assumptions.assumeTrue(library.available(), () -> "OpenCL tests skipped: " + library.detail());
        List<OpenClDevice> all = ClDevices.list();
        Assumptions.assumeFalse(all.isEmpty(), "OpenCL tests skipped: no OpenCL device on any platform");
        OpenClDevice d = OpenClBackendProvider.select(all, System.getProperty("palettizer.test.opencl.device"));
        Assumptions.assumeTrue(d.availability().available(),
                () -> "OpenCL tests skipped: " + d.availability().detail());
        return d;
    }
}
