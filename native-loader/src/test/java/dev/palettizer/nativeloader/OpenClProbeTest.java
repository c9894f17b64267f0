package dev.palettizer.nativeloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenClProbeTest {

    /** A stand-in ICD loader that, like ocl-icd with no ICD registered, finds no platform. */
    private static final String LOADER_WITHOUT_ICD = """
            int clGetPlatformIDs(unsigned entries, void **platforms, unsigned *count) {
                if (count) *count = 0;
                return -1001;
            }
            int clGetPlatformInfo(void *p, unsigned param, unsigned long size, void *value, unsigned long *ret) {
                return -32;
            }
            int clGetDeviceIDs(void *p, unsigned long type, unsigned entries, void **devices, unsigned *count) {
                return -32;
            }
            int clGetDeviceInfo(void *d, unsigned param, unsigned long size, void *value, unsigned long *ret) {
                return -33;
            }
            """;

    @Test
    void listsPoclCpuDevice() {
        assumeTrue(NativeLibraryProbe.probe(OpenClProbe.LIBRARY).available(),
                "libOpenCL.so.1 is not installed (apt-get install ocl-icd-libopencl1 pocl-opencl-icd)");
        assumeTrue(Files.exists(Path.of("/etc/OpenCL/vendors/pocl.icd")),
                "the PoCL ICD is not registered (apt-get install pocl-opencl-icd)");

        OpenClReport report = OpenClProbe.probe();

        assertTrue(report.availability().available(), report.availability().detail());
        ClPlatform pocl = report.platforms().stream()
                .filter(platform -> platform.version().contains("PoCL"))
                .findFirst().orElseThrow(() -> new AssertionError("no PoCL platform in " + report));
        assertEquals("Portable Computing Language", pocl.name());
        ClDevice cpu = pocl.devices().stream()
                .filter(device -> device.type().equals("CPU"))
                .findFirst().orElseThrow(() -> new AssertionError("PoCL lists no CPU device: " + pocl));
        assertFalse(cpu.name().isBlank(), pocl.toString());
        assertTrue(cpu.globalMemoryBytes() > 0, pocl.toString());
    }

    @Test
    void missingLoaderIsUnavailableWithInstallAdvice() {
        OpenClReport report = OpenClProbe.probe("libOpenCL-missing.so.1");

        assertFalse(report.availability().available());
        assertEquals("libOpenCL-missing.so.1 not found (install the OpenCL ICD loader and an ICD,"
                + " e.g. ocl-icd-libopencl1 and pocl-opencl-icd)", report.availability().detail());
        assertTrue(report.platforms().isEmpty());
    }

    @Test
    void loaderWithoutIcdReportsNoPlatform(@TempDir Path dir) throws Exception {
        Path loader = CCompiler.sharedLibrary(dir, "fakeopencl", LOADER_WITHOUT_ICD);

        OpenClReport report = OpenClProbe.probe(loader.toString());

        assertFalse(report.availability().available());
        assertEquals("no OpenCL platform installed (install an ICD, e.g. pocl-opencl-icd)",
                report.availability().detail());
        assertTrue(report.platforms().isEmpty());
    }

    @Test
    void deviceTypeBitsBecomeNames() {
        assertEquals("CPU", OpenClProbe.typeName(2));
        assertEquals("GPU", OpenClProbe.typeName(4 | 1), "the DEFAULT bit is not a kind of hardware");
        assertEquals("ACCELERATOR", OpenClProbe.typeName(8));
        assertEquals("CPU+GPU", OpenClProbe.typeName(2 | 4));
        assertEquals("UNKNOWN(0x1)", OpenClProbe.typeName(1));
    }

    @Test
    void errorCodesAreNamed() {
        assertEquals("CL_PLATFORM_NOT_FOUND_KHR (-1001)", OpenClProbe.describe(-1001));
        assertEquals("CL_INVALID_VALUE (-30)", OpenClProbe.describe(-30));
        assertEquals("code -9999", OpenClProbe.describe(-9999));
    }
}
