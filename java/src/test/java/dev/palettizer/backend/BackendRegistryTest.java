package dev.palettizer.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.nativeloader.Availability;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackendRegistryTest {

    private static final Availability NO_DRIVER = Availability.unavailable("libcuda.so.1 not found");

    /** A test provider reporting what it is given; it never builds a backend. */
    private record ReportingProvider(String name, int rank, Availability availability, List<DeviceInfo> devices)
            implements BackendProvider {
        ReportingProvider(String name, int rank, DeviceInfo... devices) {
            this(name, rank, devices.length > 0 ? Availability.available("driver loaded") : NO_DRIVER, List.of(devices));
        }

        @Override
        public Backend create(BackendRequest request) {
            throw new UnsupportedOperationException("test provider " + name + " builds no backend");
        }
    }

    /** A test provider whose report fails the way a missing native library makes it fail. */
    private record FailingProvider(String name, int rank) implements BackendProvider {
        @Override
        public List<DeviceInfo> devices() {
            throw new UnsatisfiedLinkError("libOpenCL.so.1: cannot open shared object file");
        }

        @Override
        public Backend create(BackendRequest request) {
            throw new UnsupportedOperationException("test provider " + name + " builds no backend");
        }
    }

    /** Listed in a services file by {@link #discoveryKeepsGoingPastBrokenProviders}: its construction fails. */
    public static final class UnloadableProvider implements BackendProvider {
        public UnloadableProvider() {
            throw new UnsatisfiedLinkError("no libpalettizer-test.so in java.library.path");
        }

        @Override
        public String name() {
            return "unloadable";
        }

        @Override
        public int rank() {
            return 0;
        }

        @Override
        public List<DeviceInfo> devices() {
            return List.of();
        }

        @Override
        public Backend create(BackendRequest request) {
            throw new UnsupportedOperationException("never constructed");
        }
    }

    private static DeviceInfo gpu(int index, String name) {
        return new DeviceInfo(index, name, true, Availability.available("ready"));
    }

    private static DeviceInfo cpu(int index, String name) {
        return new DeviceInfo(index, name, false, Availability.available("ready"));
    }

    private static BackendRegistry registry(BackendProvider... providers) {
        return new BackendRegistry(List.of(providers), List.of());
    }

    @Test
    void discoveryFindsTheJavaProvider() {
        BackendRegistry registry = BackendRegistry.discover();

        BackendStatus.Built java = registry.statuses().stream()
                .filter(s -> s instanceof BackendStatus.Built && s.name().equals("java"))
                .map(BackendStatus.Built.class::cast).findFirst().orElseThrow();
        assertEquals(100, java.rank());
        assertTrue(java.availability().available());
        assertEquals(1, java.devices().size());
        assertTrue(java.devices().getFirst().availability().available());
        assertEquals(List.of(), registry.loadFailures());
        try (ForkJoinPool pool = new ForkJoinPool(1);
                Backend backend = registry.create(registry.choose("JAVA", null), pool)) {
            assertInstanceOf(JavaBackend.class, backend);
        }
    }

    @Test
    void discoveryKeepsGoingPastBrokenProviders(@TempDir Path dir) throws IOException {
        Path services = Files.createDirectories(dir.resolve("META-INF/services"));
        Files.writeString(services.resolve(BackendProvider.class.getName()), """
                dev.palettizer.backend.NoSuchProvider
                dev.palettizer.backend.BackendRegistryTest$UnloadableProvider
                """);

        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            BackendRegistry registry = BackendRegistry.discover(loader);

            assertEquals(2, registry.loadFailures().size(), registry.loadFailures().toString());
            assertTrue(registry.loadFailures().get(0).contains("NoSuchProvider not found"), registry.loadFailures().toString());
            assertTrue(registry.loadFailures().get(1).contains("UnloadableProvider could not be instantiated")
                    && registry.loadFailures().get(1).contains("no libpalettizer-test.so"), registry.loadFailures().toString());
            assertEquals("java", registry.choose("java", null).backend(), "the working provider is still there");
            assertTrue(registry.choose("auto", null).reason().contains("failed to load: "),
                    registry.choose("auto", null).reason());
        }
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        BackendException e = assertThrows(BackendException.class,
                () -> registry(new JavaBackendProvider()).choose("nosuch", null));

        assertEquals(BackendException.Status.NOT_SUPPORTED, e.status());
        assertEquals("unknown backend 'nosuch'; choose one of auto, cuda, opencl, java", e.getMessage());
    }

    @Test
    void definedButUnbuiltNameIsNotSupportedInThisBuild() {
        BackendRegistry registry = registry(new JavaBackendProvider());

        BackendException e = assertThrows(BackendException.class, () -> registry.choose("cuda", null));

        assertEquals(BackendException.Status.NOT_SUPPORTED, e.status());
        assertEquals("backend 'cuda' is not supported in this build (no cuda provider on the class path);"
                + " use one of auto, java", e.getMessage());
        assertTrue(registry.statuses().contains(new BackendStatus.NotBuilt("cuda", "not supported in this build")),
                registry.statuses().toString());
    }

    @Test
    void autoPicksCudaWhenItHasAUsableGpu() {
        BackendRegistry registry = registry(new JavaBackendProvider(),
                new ReportingProvider("opencl", 20, gpu(0, "AMD Radeon")),
                new ReportingProvider("cuda", 10, gpu(0, "NVIDIA H100 80GB HBM3")));

        BackendChoice choice = registry.choose("auto", null);

        assertEquals(new BackendChoice("auto", "cuda", "0", "NVIDIA H100 80GB HBM3 is the first usable GPU"), choice);
        assertEquals("auto -> cuda (device 0): NVIDIA H100 80GB HBM3 is the first usable GPU", choice.summary());
    }

    @Test
    void autoPicksAnOpenClGpuWhenCudaIsUnavailable() {
        BackendRegistry registry = registry(new JavaBackendProvider(),
                new ReportingProvider("cuda", 10),
                new ReportingProvider("opencl", 20, cpu(0, "pthread-EPYC"), gpu(1, "AMD Radeon")));

        BackendChoice choice = registry.choose("auto", null);

        assertEquals("opencl", choice.backend());
        assertEquals("1", choice.device(), "the GPU, not the CPU device listed first");
    }

    @Test
    void autoFallsBackToJavaWhenOpenClHasOnlyCpuDevices() {
        BackendRegistry registry = registry(new JavaBackendProvider(),
                new ReportingProvider("cuda", 10),
                new ReportingProvider("opencl", 20, cpu(0, "pthread-EPYC")));

        BackendChoice choice = registry.choose("auto", null);

        assertEquals("java", choice.backend());
        assertNull(choice.device());
        assertEquals("auto -> java: no usable GPU (cuda: libcuda.so.1 not found;"
                + " opencl: only CPU devices (pthread-EPYC))", choice.summary());
    }

    @Test
    void autoSkipsGpusThatAreNotUsableAndSaysWhy() {
        DeviceInfo busy = new DeviceInfo(0, "NVIDIA T4", true, Availability.unavailable("compute capability 7.0 < 7.5"));
        BackendRegistry registry = registry(new JavaBackendProvider(), new ReportingProvider("cuda", 10, busy));

        BackendChoice choice = registry.choose("auto", null);

        assertEquals("java", choice.backend());
        assertTrue(choice.reason().contains("cuda: no usable GPU (0 (NVIDIA T4): compute capability 7.0 < 7.5)"),
                choice.reason());
        assertTrue(choice.reason().contains("opencl: not supported in this build"), choice.reason());
    }

    @Test
    void autoPrefersTheLowerRankWhateverTheOrder() {
        BackendRegistry registry = registry(new ReportingProvider("opencl", 20, gpu(0, "AMD Radeon")),
                new JavaBackendProvider(), new ReportingProvider("cuda", 30, gpu(0, "NVIDIA L4")));

        assertEquals("opencl", registry.choose("auto", null).backend());
    }

    @Test
    void autoKeepsAnExplicitDevice() {
        BackendRegistry registry = registry(new JavaBackendProvider(),
                new ReportingProvider("cuda", 10, gpu(0, "NVIDIA H100"), gpu(1, "NVIDIA H100")));

        assertEquals("1", registry.choose("auto", "1").device());
    }

    @Test
    void aProviderThatThrowsWhileReportingIsUnavailable() {
        BackendRegistry registry = registry(new JavaBackendProvider(), new FailingProvider("opencl", 20));

        BackendStatus.Built opencl = registry.statuses().stream()
                .filter(s -> s.name().equals("opencl")).map(BackendStatus.Built.class::cast).findFirst().orElseThrow();

        assertEquals(Availability.unavailable("failed to report its devices:"
                + " libOpenCL.so.1: cannot open shared object file"), opencl.availability());
        assertEquals("java", registry.choose("auto", null).backend());
    }

    @Test
    void aDuplicateNameKeepsTheLowerRank() {
        BackendRegistry registry = registry(new ReportingProvider("cuda", 40, gpu(0, "second")),
                new ReportingProvider("CUDA", 10, gpu(0, "first")), new JavaBackendProvider());

        assertEquals("first is the first usable GPU", registry.choose("auto", null).reason());
        assertEquals(1, registry.loadFailures().size(), registry.loadFailures().toString());
    }

    @Test
    void withoutJavaAutoFailsWithTheReasons() {
        BackendException e = assertThrows(BackendException.class,
                () -> registry(new ReportingProvider("cuda", 10)).choose("auto", null));

        assertEquals(BackendException.Status.NOT_AVAILABLE, e.status());
        assertTrue(e.getMessage().contains("cuda: libcuda.so.1 not found"), e.getMessage());
    }
}
