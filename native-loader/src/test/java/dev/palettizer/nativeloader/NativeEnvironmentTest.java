package dev.palettizer.nativeloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Supplier;
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
    }

    @Test
    void disablePropertyMakesListedProbesUnavailable() {
        NativeEnvironment environment = withDisableProperty(" CUDA, opencl ", NativeEnvironment::probe);

        assertEquals(Availability.unavailable("disabled by palettizer.probe.disable"), environment.cuda().availability());
        assertEquals(Availability.unavailable("disabled by palettizer.probe.disable"), environment.openCl().availability());
        assertTrue(environment.openCl().platforms().isEmpty());
    }

    @Test
    void disablePropertyLeavesUnlistedProbesAlone() {
        NativeEnvironment environment = withDisableProperty("cuda", NativeEnvironment::probe);

        assertEquals(DisabledProbes.REASON, environment.cuda().availability().detail());
        assertNotEquals(DisabledProbes.REASON, environment.openCl().availability().detail());
    }

    @Test
    void describeListsDevicesOnePerLine() {
        NativeEnvironment environment = new NativeEnvironment("Linux", "amd64",
                new CudaReport(Availability.available("NVIDIA driver for CUDA 12.6, 1 device(s)"), 12060,
                        List.of(new GpuDevice(0, "NVIDIA H100 80GB HBM3", 80L << 30, 9, 0))),
                new OpenClReport(Availability.available("1 platform(s), 1 device(s)"), List.of(
                        new ClPlatform(0, "Portable Computing Language", "OpenCL 3.0 PoCL 3.1 ", List.of(
                                new ClDevice(0, "pthread-skylake", "CPU", 4L << 30))))));

        assertEquals("""
                Native acceleration on Linux amd64
                CUDA:   available: NVIDIA driver for CUDA 12.6, 1 device(s)
                  device 0: NVIDIA H100 80GB HBM3, compute capability 9.0, 80.0 GiB
                OpenCL: available: 1 platform(s), 1 device(s)
                  platform 0: Portable Computing Language (OpenCL 3.0 PoCL 3.1)
                    device 0: pthread-skylake, CPU, 4.0 GiB
                """, environment.describe());
    }

    @Test
    void describeGivesTheReasonForAnUnavailableProbe() {
        NativeEnvironment environment = new NativeEnvironment("Linux", "amd64",
                CudaReport.unavailable("libcuda.so.1 not found (no NVIDIA driver on this machine)"),
                OpenClReport.unavailable("no OpenCL platform installed (install an ICD, e.g. pocl-opencl-icd)"));

        String description = environment.describe();

        assertTrue(description.contains(
                "CUDA:   unavailable: libcuda.so.1 not found (no NVIDIA driver on this machine)\n"), description);
        assertFalse(description.contains("device"), description);
    }

    private static <T> T withDisableProperty(String value, Supplier<T> action) {
        String previous = System.getProperty(DisabledProbes.PROPERTY);
        System.setProperty(DisabledProbes.PROPERTY, value);
        try {
            return action.get();
        } finally {
            if (previous == null) {
                System.clearProperty(DisabledProbes.PROPERTY);
            } else {
                System.setProperty(DisabledProbes.PROPERTY, previous);
            }
        }
    }
}
