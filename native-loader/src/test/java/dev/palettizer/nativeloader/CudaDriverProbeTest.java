package dev.palettizer.nativeloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudaDriverProbeTest {

    /**
     * A stand-in libcuda: two devices whose handles (10, 11) differ from their ordinals (0, 1), so
     * a probe that skips cuDeviceGet or swaps arguments reads the wrong names and capabilities.
     */
    private static final String FAKE_DRIVER = """
            #include <stddef.h>
            #include <stdio.h>
            #ifndef INIT_RESULT
            #define INIT_RESULT 0
            #endif
            int cuDriverGetVersion(int *version) { *version = 12060; return 0; }
            int cuInit(unsigned int flags) { return flags == 0 ? INIT_RESULT : 1; }
            int cuDeviceGetCount(int *count) { *count = 2; return 0; }
            int cuDeviceGet(int *device, int ordinal) { *device = ordinal + 10; return 0; }
            int cuDeviceGetName(char *name, int length, int device) {
                if (device < 10 || length < 16) return 1;
                snprintf(name, length, "Fake GPU %d", device);
                return 0;
            }
            int cuDeviceTotalMem_v2(size_t *bytes, int device) {
                *bytes = (size_t) (device - 9) << 34;
                return device < 10 ? 101 : 0;
            }
            int cuDeviceGetAttribute(int *value, int attribute, int device) {
                if (device < 10) return 101;
                if (attribute == 75) { *value = 9; return 0; }
                if (attribute == 76) { *value = device - 10; return 0; }
                return 1;
            }
            """;

    @Test
    void machineWithoutDriverReportsMissingLibcuda() {
        assumeFalse(NativeLibraryProbe.probe(CudaDriverProbe.LIBRARY).available(),
                "libcuda.so.1 is installed here; this test covers machines without the NVIDIA driver");

        CudaReport report = CudaDriverProbe.probe();

        assertFalse(report.availability().available());
        assertEquals("libcuda.so.1 not found (no NVIDIA driver on this machine)", report.availability().detail());
        assertTrue(report.devices().isEmpty());
    }

    @Test
    void machineWithDriverReportsConsistently() {
        assumeTrue(NativeLibraryProbe.probe(CudaDriverProbe.LIBRARY).available(),
                "libcuda.so.1 is not installed (no NVIDIA driver on this machine)");

        CudaReport report = CudaDriverProbe.probe();

        assertEquals(report.availability().available(), !report.devices().isEmpty(), report.toString());
        for (GpuDevice device : report.devices()) {
            assertFalse(device.name().isBlank(), report.toString());
            assertTrue(device.totalMemoryBytes() > 0, report.toString());
            assertTrue(device.ccMajor() >= 3, report.toString());
        }
    }

    @Test
    void readsDevicesThroughTheDriverApi(@TempDir Path dir) throws Exception {
        Path driver = CCompiler.sharedLibrary(dir, "fakecuda", FAKE_DRIVER);

        CudaReport report = CudaDriverProbe.probe(driver.toString());

        assertTrue(report.availability().available(), report.availability().detail());
        assertEquals("NVIDIA driver for CUDA 12.6, 2 device(s)", report.availability().detail());
        assertEquals(12060, report.driverVersion());
        assertEquals(List.of(
                        new GpuDevice(0, "Fake GPU 10", 16L << 30, 9, 0),
                        new GpuDevice(1, "Fake GPU 11", 32L << 30, 9, 1)),
                report.devices());
    }

    @Test
    void failingCuInitNamesTheCallAndTheError(@TempDir Path dir) throws Exception {
        Path driver = CCompiler.sharedLibrary(dir, "fakecuda-nodevice", FAKE_DRIVER, "INIT_RESULT=100");

        CudaReport report = CudaDriverProbe.probe(driver.toString());

        assertFalse(report.availability().available());
        assertTrue(report.availability().detail().startsWith("cuInit(0) failed with CUDA_ERROR_NO_DEVICE (100)"),
                report.availability().detail());
        assertEquals(12060, report.driverVersion(), "the version is read before cuInit");
        assertTrue(report.devices().isEmpty());
    }

    @Test
    void unlistedErrorCodesAreReportedByNumber() {
        assertEquals("code 42", CudaDriverProbe.describe(42));
        assertTrue(CudaDriverProbe.describe(35).startsWith("CUDA_ERROR_INSUFFICIENT_DRIVER (35)"));
        assertTrue(CudaDriverProbe.describe(3).startsWith("CUDA_ERROR_NOT_INITIALIZED (3)"));
        assertTrue(CudaDriverProbe.describe(999).startsWith("CUDA_ERROR_UNKNOWN (999)"));
    }
}
