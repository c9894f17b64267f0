package dev.palettizer.nativeloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class LwjglOpenClProbeTest {

    @Test
    void reachesTheSamePlatformsAsTheLoaderProbe() {
        assumeTrue(NativeLibraryProbe.probe(OpenClProbe.LIBRARY).available(),
                "libOpenCL.so.1 is not installed (apt-get install ocl-icd-libopencl1 pocl-opencl-icd)");
        assumeTrue(Files.exists(Path.of("/etc/OpenCL/vendors/pocl.icd")),
                "the PoCL ICD is not registered (apt-get install pocl-opencl-icd)");

        Availability answer = LwjglOpenClProbe.probe();

        assertTrue(answer.available(), answer.detail());
        int platforms = OpenClProbe.get().platforms().size();
        assertTrue(answer.detail().matches("LWJGL 3\\.4\\.3 reaches libOpenCL\\.so\\.1 \\(" + platforms
                + " platform\\(s\\)\\)"), answer.detail() + " vs " + platforms + " platform(s) through FFM");
        assertSame(LwjglOpenClProbe.get(), LwjglOpenClProbe.get());
    }

    @Test
    void missingLoaderStopsBeforeLwjgl() {
        assertEquals(Availability.unavailable("LWJGL OpenCL not loaded: libOpenCL-missing.so.1 not found (install the"
                        + " OpenCL ICD loader and an ICD, e.g. ocl-icd-libopencl1 and pocl-opencl-icd)"),
                LwjglOpenClProbe.probe("libOpenCL-missing.so.1"));
    }

    @Test
    void missingLwjglNativesJarIsReported() throws Exception {
        assumeTrue(NativeLibraryProbe.probe(OpenClProbe.LIBRARY).available(), "libOpenCL.so.1 is not installed");

        String out = ForkedJvm.probe("lwjgl", entry -> entry.contains("lwjgl-3.4.3-natives-linux"));

        assertEquals("unavailable: LWJGL core natives could not be loaded:"
                + " UnsatisfiedLinkError: Failed to locate library: liblwjgl.so", out);
    }

    @Test
    void missingLwjglOpenClJarIsReported() throws Exception {
        assumeTrue(NativeLibraryProbe.probe(OpenClProbe.LIBRARY).available(), "libOpenCL.so.1 is not installed");

        String out = ForkedJvm.probe("lwjgl", entry -> entry.contains("lwjgl-opencl-"));

        assertEquals("unavailable: LWJGL could not load OpenCL: class org.lwjgl.opencl.CL10 is not on the class path",
                out);
    }

    @Test
    void disablePropertyStopsTheProbe() {
        for (String listed : new String[] {"lwjgl", "opencl"}) {
            assertEquals(Availability.unavailable(DisabledProbes.REASON),
                    SystemProperty.with(DisabledProbes.PROPERTY, listed, LwjglOpenClProbe::probe), listed);
        }
    }
}
