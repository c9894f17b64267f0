package dev.palettizer.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.BackendException;
import dev.palettizer.backend.BackendException.Status;
import dev.palettizer.backend.BackendProvider;
import dev.palettizer.backend.BackendRequest;
import dev.palettizer.backend.DeviceInfo;
import dev.palettizer.nativeloader.Availability;
import dev.palettizer.nativeloader.CudaDriverProbe;
import dev.palettizer.nativeloader.CudaReport;
import dev.palettizer.nativeloader.GpuDevice;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Discovery, availability and its reasons, device listing and selection, and CUDA error mapping; no GPU needed. */
class CudaBackendProviderTest {
    private static final GpuDevice H100 = new GpuDevice(0, "NVIDIA H100 80GB HBM3", 85_520_809_984L, 9, 0);
    private static final GpuDevice V100 = new GpuDevice(1, "Tesla V100-SXM2-16GB", 17_179_869_184L, 7, 0);
    private static final Availability JCUDA = Availability.available("JCuda natives loaded (driver for CUDA 13.0)");

    private static CudaReport driver(GpuDevice... devices) {
        return new CudaReport(Availability.available("NVIDIA driver for CUDA 13.0, " + devices.length + " device(s)"),
                13000, List.of(devices));
    }

    @Test
    void isFoundByServiceLoaderFirstInAutosOrder() {
        assertTrue(ServiceLoader.load(BackendProvider.class).stream().anyMatch(p -> p.type() == CudaBackendProvider.class));
        CudaBackendProvider provider = new CudaBackendProvider();
        assertEquals("cuda", provider.name());
        assertEquals(0, provider.rank());
    }

    @Test
    void withoutADriverItIsUnavailableWithTheDriverProbesReason() {
        Availability probed = CudaDriverProbe.get().availability();
        Assumptions.assumeFalse(probed.available(), "this machine has a CUDA driver: " + probed.detail());
        CudaBackendProvider provider = new CudaBackendProvider();
        assertEquals(probed, provider.availability());
        assertTrue(probed.detail().startsWith("libcuda.so.1 not found"), probed.detail());
        assertEquals(List.of(), provider.devices());
        try (ForkJoinPool pool = new ForkJoinPool(1)) {
            BackendException e = assertThrows(BackendException.class, () -> provider.create(new BackendRequest(pool, null)));
            assertEquals(Status.NOT_AVAILABLE, e.status());
            assertEquals("CUDA is not available: " + probed.detail(), e.getMessage());
        }
    }

    @Test
    void aDriverWithoutJCudaNativesGivesJCudasReason() {
        Availability noJcuda = Availability.unavailable("JCuda natives could not be loaded: libJCudaDriver: undefined symbol");
        CudaBackendProvider provider = new CudaBackendProvider(() -> driver(H100), () -> noJcuda);
        assertEquals(noJcuda, provider.availability());
        try (ForkJoinPool pool = new ForkJoinPool(1)) {
            BackendException e = assertThrows(BackendException.class, () -> provider.create(new BackendRequest(pool, "0")));
            assertEquals("CUDA is not available: " + noJcuda.detail(), e.getMessage());
        }
    }

    @Test
    void devicesAreGpusAndThoseBelowComputeCapability75AreNotUsable() {
        CudaBackendProvider provider = new CudaBackendProvider(() -> driver(H100, V100), () -> JCUDA);
        List<DeviceInfo> devices = provider.devices();
        assertEquals(2, devices.size());
        assertTrue(devices.stream().allMatch(DeviceInfo::gpu));
        assertTrue(devices.get(0).availability().available(), devices.get(0).availability().detail());
        assertEquals("NVIDIA H100 80GB HBM3, compute capability 9.0, 79.6 GiB", devices.get(0).availability().detail());
        assertFalse(devices.get(1).availability().available());
        assertEquals("Tesla V100-SXM2-16GB, compute capability 7.0, 16.0 GiB: below 7.5, the kernels' lowest target",
                devices.get(1).availability().detail());
        assertTrue(provider.availability().available(), provider.availability().detail());

        CudaBackendProvider oldOnly = new CudaBackendProvider(() -> driver(V100), () -> JCUDA);
        assertFalse(oldOnly.availability().available());
        assertTrue(oldOnly.availability().detail().startsWith("no CUDA device of compute capability 7.5 or newer"),
                oldOnly.availability().detail());
    }

    @Test
    void aDeviceIsChosenByIndexOrNameAndAWrongOneNamesTheDevices() {
        CudaBackendProvider provider = new CudaBackendProvider(() -> driver(H100, V100), () -> JCUDA);
        try (ForkJoinPool pool = new ForkJoinPool(1)) {
            BackendException missing = assertThrows(BackendException.class,
                    () -> provider.create(new BackendRequest(pool, "7")));
            assertEquals(Status.NOT_AVAILABLE, missing.status());
            assertTrue(missing.getMessage().startsWith("backend 'cuda' has no device '7'; its devices: 0 (NVIDIA H100"),
                    missing.getMessage());
            BackendException old = assertThrows(BackendException.class,
                    () -> provider.create(new BackendRequest(pool, "v100")));
            assertTrue(old.getMessage().contains("is not usable") && old.getMessage().contains("below 7.5"),
                    old.getMessage());
        }
    }

    @Test
    void cudaResultsMapToStatusesWithTheirNames() {
        BackendException oom = CuErrors.failure(2, "cuMemAlloc(1024 bytes)");
        assertEquals(Status.OUT_OF_MEMORY, oom.status());
        assertEquals("CUDA cuMemAlloc(1024 bytes) failed with CUDA_ERROR_OUT_OF_MEMORY (2)", oom.getMessage());
        assertEquals(Status.NOT_AVAILABLE, CuErrors.failure(100, "cuInit").status());
        assertEquals(Status.NOT_AVAILABLE, CuErrors.failure(209, "cuModuleLoadData").status());
        BackendException oldDriver = CuErrors.failure(35, "cuInit");
        assertEquals(Status.NOT_AVAILABLE, oldDriver.status());
        assertTrue(oldDriver.getMessage().contains("CUDA_ERROR_INSUFFICIENT_DRIVER (35)"), oldDriver.getMessage());
        assertEquals(Status.NOT_SUPPORTED, CuErrors.failure(801, "x").status());
        BackendException illegal = CuErrors.failure(700, "cuEventSynchronize");
        assertEquals(Status.DEVICE_ERROR, illegal.status());
        assertTrue(illegal.getMessage().contains("CUDA_ERROR_ILLEGAL_ADDRESS (700)"), illegal.getMessage());
        BackendException unknown = CuErrors.failure(12345, "cuFoo");
        assertEquals(Status.UNKNOWN, unknown.status());
        assertEquals("CUDA cuFoo failed with unknown CUDA error (12345)", unknown.getMessage());
        assertEquals(Status.UNKNOWN, CuErrors.failure(999, "x").status());
        CuErrors.check(0, "cuInit");
    }
}
