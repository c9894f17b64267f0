package dev.palettizer.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.BackendException;
import dev.palettizer.backend.BackendProvider;
import dev.palettizer.backend.BackendRequest;
import dev.palettizer.backend.DeviceInfo;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

/** Discovery, device listing and selection, error mapping and resource lifetime. */
class OpenClBackendProviderTest {
    private final OpenClBackendProvider provider = new OpenClBackendProvider();

    @Test
    void isFoundByServiceLoaderUnderItsName() {
        assertTrue(ServiceLoader.load(BackendProvider.class).stream()
                .anyMatch(p -> p.type() == OpenClBackendProvider.class));
        assertEquals("opencl", provider.name());
        assertEquals(20, provider.rank());
    }

    @Test
    void listsEveryDeviceWithItsAvailability() {
        OpenClDevice device = OpenClTesting.device();
        List<DeviceInfo> devices = provider.devices();
        assertEquals(ClDevices.list().size(), devices.size());
        DeviceInfo info = devices.get(device.index());
        assertEquals(device.name(), info.name());
        assertEquals(device.gpu(), info.gpu());
        assertTrue(info.availability().available(), info.availability().detail());
        assertTrue(info.availability().detail().contains(device.platformName()), info.availability().detail());
    }

    @Test
    void selectsByIndexOrNameAndNamesWhatExistsOtherwise() {
        OpenClDevice device = OpenClTesting.device();
        try (ForkJoinPool pool = new ForkJoinPool(1)) {
            for (String wanted : new String[] {null, String.valueOf(device.index()),
                device.name().substring(0, 5).toUpperCase(java.util.Locale.ROOT)}) {
                try (Backend b = provider.create(new BackendRequest(pool, wanted))) {
                    assertEquals("opencl", b.name());
                }
            }
            BackendException byName = assertThrows(BackendException.class,
                    () -> provider.create(new BackendRequest(pool, "no-such-device")));
            assertEquals(BackendException.Status.NOT_AVAILABLE, byName.status());
            assertTrue(byName.getMessage().contains("no-such-device") && byName.getMessage().contains(device.name()),
                    byName.getMessage());
            BackendException byIndex = assertThrows(BackendException.class,
                    () -> provider.create(new BackendRequest(pool, "99")));
            assertTrue(byIndex.getMessage().contains("no OpenCL device 99"), byIndex.getMessage());
        }
    }

    @Test
    void errorCodesMapToStatusesWithTheirNames() {
        assertEquals(BackendException.Status.OUT_OF_MEMORY, ClErrors.failure(-4, "x").status());
        assertEquals(BackendException.Status.NOT_AVAILABLE, ClErrors.failure(-1001, "x").status());
        BackendException build = ClErrors.failure(-11, "clBuildProgram");
        assertEquals(BackendException.Status.DEVICE_ERROR, build.status());
        assertTrue(build.getMessage().contains("CL_BUILD_PROGRAM_FAILURE (-11)"), build.getMessage());
        BackendException unknown = ClErrors.failure(-12345, "clFoo");
        assertEquals(BackendException.Status.UNKNOWN, unknown.status());
        assertTrue(unknown.getMessage().contains("clFoo") && unknown.getMessage().contains("-12345"));
    }

    @Test
    void closingTwiceIsHarmlessAndUseAfterCloseFails() {
        OpenClDevice device = OpenClTesting.device();
        try (ForkJoinPool pool = new ForkJoinPool(1)) {
            OpenClBackend b = new OpenClBackend(device, pool, 1 << 20);
            b.pack(new byte[] {1, 0, 1}, 3, 1);
            b.close();
            b.close();
            assertThrows(IllegalStateException.class, () -> b.pack(new byte[] {1}, 1, 1));
            try (ClContext cl = new ClContext(device)) {
                ClBuffer buffer = ClBuffer.allocate(cl.context(), 64);
                buffer.close();
                buffer.close();
                assertThrows(IllegalStateException.class, buffer::handle);
                cl.close();
                assertThrows(IllegalStateException.class, cl::context);
            }
        }
    }

    @Test
    void aBrokenKernelSourceFailsWithTheCompilerLog() {
        OpenClDevice device = OpenClTesting.device();
        try (ClContext cl = new ClContext(device)) {
            BackendException e = assertThrows(BackendException.class,
                    () -> ClProgram.build(cl.context(), device.device(), "__kernel void k() { undefined_name; }", ""));
            assertTrue(e.getMessage().contains("CL_BUILD_PROGRAM_FAILURE") && e.getMessage().contains("undefined_name"),
                    e.getMessage());
        }
    }

    @Test
    void theKernelSourcesAreOnTheClasspathInDialectCoreEntryOrder() {
        String source = KernelSource.opencl();
        int dialect = source.indexOf("#line 1 \"kernels/opencl/dialect.h\"");
        int core = source.indexOf("#line 1 \"kernels/common/palettizer_core.h\"");
        int entries = source.indexOf("#line 1 \"kernels/opencl/palettizer.cl\"");
        assertTrue(dialect == 0 && core > dialect && entries > core, "order of the concatenated kernel sources");
        assertFalse(source.contains("#include"), "OpenCL sources are concatenated, never included");
    }
}
