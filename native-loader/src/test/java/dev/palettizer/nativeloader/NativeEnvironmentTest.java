package dev.palettizer.nativeloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class NativeEnvironmentTest {

    @Test
    void getProbesOnceAndDescribesEveryProbe() {
        NativeEnvironment environment = NativeEnvironment.get();

        assertSame(environment, NativeEnvironment.get());
        assertEquals(System.getProperty("os.arch"), environment.osArch());
        String description = environment.describe();
        assertTrue(description.contains("\nCUDA:"), description);
        assertTrue(description.contains("\nOpenCL:"), description);
        for (String label : new String[] {"\nJCuda: ", "\ncuBLAS:", "\nLWJGL: "}) {
            assertTrue(description.contains(label), description);
        }
    }

    @Test
    void disablePropertyMakesListedProbesUnavailable() {
        NativeEnvironment environment = SystemProperty.with(DisabledProbes.PROPERTY, " CUDA, opencl ",
                NativeEnvironment::probe);

        Availability disabled = Availability.unavailable(DisabledProbes.REASON);
        assertEquals(disabled, environment.cuda().availability());
        assertEquals(disabled, environment.openCl().availability());
        assertEquals(disabled, environment.jcuda(), "cuda covers JCuda");
        assertEquals(DisabledProbes.REASON + JcublasProbe.FALLBACK, environment.jcublas().detail(), "cuda covers JCublas");
        assertEquals(disabled, environment.lwjglOpenCl(), "opencl covers LWJGL");
        assertTrue(environment.openCl().platforms().isEmpty());
    }

    @Test
    void disablePropertyLeavesUnlistedProbesAlone() {
        NativeEnvironment environment = SystemProperty.with(DisabledProbes.PROPERTY, "cuda", NativeEnvironment::probe);

        assertEquals(DisabledProbes.REASON, environment.cuda().availability().detail());
        assertNotEquals(DisabledProbes.REASON, environment.openCl().availability().detail());
        assertNotEquals(DisabledProbes.REASON, environment.lwjglOpenCl().detail());
    }

    @Test
    void bindingNamesDisableOnlyTheirBinding() {
        NativeEnvironment environment = SystemProperty.with(DisabledProbes.PROPERTY, "jcuda,lwjgl",
                NativeEnvironment::probe);

        assertEquals(DisabledProbes.REASON, environment.jcuda().detail());
        assertEquals(DisabledProbes.REASON, environment.lwjglOpenCl().detail());
        assertNotEquals(DisabledProbes.REASON, environment.cuda().availability().detail());
        assertNotEquals(DisabledProbes.REASON, environment.openCl().availability().detail());
    }

    @Test
    void describeListsDevicesOnePerLine() {
        NativeEnvironment environment = new NativeEnvironment("Linux", "amd64",
                new CudaReport(Availability.available("NVIDIA driver for CUDA 12.6, 1 device(s)"), 12060,
                        List.of(new GpuDevice(0, "NVIDIA H100 80GB HBM3", 80L << 30, 9, 0))),
                new OpenClReport(Availability.available("1 platform(s), 1 device(s)"), List.of(
                        new ClPlatform(0, "Portable Computing Language", "OpenCL 3.0 PoCL 3.1 ", List.of(
                                new ClDevice(0, "pthread-skylake", "CPU", 4L << 30))))),
                Availability.available("JCuda natives loaded (driver for CUDA 12.6)"),
                Availability.unavailable("libcublas.so.12 not found: the hand-written kernels are used"),
                Availability.available("LWJGL 3.4.3 reaches libOpenCL.so.1 (1 platform(s))"));

        assertEquals("""
                Native acceleration on Linux amd64
                CUDA:   available: NVIDIA driver for CUDA 12.6, 1 device(s)
                  device 0: NVIDIA H100 80GB HBM3, compute capability 9.0, 80.0 GiB
                JCuda:  available: JCuda natives loaded (driver for CUDA 12.6)
                cuBLAS: unavailable: libcublas.so.12 not found: the hand-written kernels are used
                OpenCL: available: 1 platform(s), 1 device(s)
                  platform 0: Portable Computing Language (OpenCL 3.0 PoCL 3.1)
                    device 0: pthread-skylake, CPU, 4.0 GiB
                LWJGL:  available: LWJGL 3.4.3 reaches libOpenCL.so.1 (1 platform(s))
                """, environment.describe());
    }

    @Test
    void describeGivesTheReasonForAnUnavailableProbe() {
        NativeEnvironment environment = new NativeEnvironment("Linux", "amd64",
                CudaReport.unavailable("libcuda.so.1 not found (no NVIDIA driver on this machine)"),
                OpenClReport.unavailable("no OpenCL platform installed (install an ICD, e.g. pocl-opencl-icd)"),
                Availability.unavailable("JCuda natives not loaded: libcuda.so.1 not found"),
                Availability.unavailable("libcublas.so.12 not found: the hand-written kernels are used"),
                Availability.available("LWJGL 3.4.3 reaches libOpenCL.so.1 (0 platform(s))"));

        String description = environment.describe();

        assertTrue(description.contains(
                "CUDA:   unavailable: libcuda.so.1 not found (no NVIDIA driver on this machine)\n"), description);
        assertTrue(description.contains(
                "cuBLAS: unavailable: libcublas.so.12 not found: the hand-written kernels are used\n"), description);
        assertFalse(description.contains("device"), description);
    }
}
