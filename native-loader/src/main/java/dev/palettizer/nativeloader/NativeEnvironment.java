package dev.palettizer.nativeloader;

import java.util.Locale;
import java.util.Objects;

/**
 * The native acceleration this machine offers: what the CUDA driver and the OpenCL ICD loader
 * report, whether the Java bindings (JCuda, JCublas, LWJGL) load, plus the operating system and
 * architecture the JVM runs on.
 *
 * <p>{@link #get()} runs every probe once per JVM, on first use, and never throws (short of a
 * {@link VirtualMachineError}). Each probe also caches its own answer ({@link CudaDriverProbe#get()},
 * {@link JcudaProbe#get()}, {@link JcublasProbe#get()}, {@link OpenClProbe#get()},
 * {@link LwjglOpenClProbe#get()}), so code that needs one answer does not pay for the others. The
 * system property {@code palettizer.probe.disable}, a comma-separated list of {@code cuda},
 * {@code jcuda}, {@code jcublas}, {@code opencl} and {@code lwjgl}, makes those probes report
 * unavailable without loading anything ({@code cuda} covers JCuda and JCublas too, {@code opencl}
 * covers LWJGL); it is read when a probe runs.
 *
 * <p>Code that chooses a backend can be tested by constructing an environment directly.
 *
 * @param osName the {@code os.name} system property, for example "Linux"
 * @param osArch the {@code os.arch} system property, for example "amd64"
 * @param cuda what the CUDA driver reported
 * @param openCl what the OpenCL ICD loader reported
 * @param jcuda whether JCuda's driver-API natives load
 * @param jcublas whether JCublas loads (it needs {@code libcublas.so.12})
 * @param lwjglOpenCl whether LWJGL loads and reaches OpenCL
 */
public record NativeEnvironment(String osName, String osArch, CudaReport cuda, OpenClReport openCl,
        Availability jcuda, Availability jcublas, Availability lwjglOpenCl) {

    public NativeEnvironment {
        Objects.requireNonNull(osName, "osName");
        Objects.requireNonNull(osArch, "osArch");
        Objects.requireNonNull(cuda, "cuda");
        Objects.requireNonNull(openCl, "openCl");
        Objects.requireNonNull(jcuda, "jcuda");
        Objects.requireNonNull(jcublas, "jcublas");
        Objects.requireNonNull(lwjglOpenCl, "lwjglOpenCl");
    }

    /** Initialised by the JVM on first access, which makes the one probe lazy and thread-safe. */
    private static final class Probed {
        static final NativeEnvironment INSTANCE = new NativeEnvironment(currentOsName(), currentOsArch(), CudaDriverProbe.get(),
                OpenClProbe.get(), JcudaProbe.get(), JcublasProbe.get(), LwjglOpenClProbe.get());
    }

    /** This machine's environment, probed on the first call and cached for the life of the JVM. */
    public static NativeEnvironment get() {
        return Probed.INSTANCE;
    }

    /** Probes afresh, bypassing every cache; for tests that change {@code palettizer.probe.disable}. */
    static NativeEnvironment probe() {
        return new NativeEnvironment(currentOsName(), currentOsArch(), CudaDriverProbe.probe(), OpenClProbe.probe(),
                JcudaProbe.probe(), JcublasProbe.probe(), LwjglOpenClProbe.probe());
    }

    private static String currentOsName() {
        return System.getProperty("os.name", "unknown");
    }

    private static String currentOsArch() {
        return System.getProperty("os.arch", "unknown");
    }

    /**
     * A multi-line summary for {@code palettizer backends --diagnose}: one line per probe saying
     * whether it is available and why not, the driver probes each followed by one line per
     * platform and device found.
     */
    public String describe() {
        StringBuilder text = new StringBuilder();
        text.append("Native acceleration on ").append(osName).append(' ').append(osArch).append('\n');
        appendStatus(text, "CUDA:  ", cuda.availability());
        for (GpuDevice device : cuda.devices()) {
            text.append("  device ").append(device.index()).append(": ").append(device.name())
                    .append(", compute capability ").append(device.computeCapability())
                    .append(", ").append(gibibytes(device.totalMemoryBytes())).append('\n');
        }
        appendStatus(text, "JCuda: ", jcuda);
        appendStatus(text, "cuBLAS:", jcublas);
        appendStatus(text, "OpenCL:", openCl.availability());
        for (ClPlatform platform : openCl.platforms()) {
            text.append("  platform ").append(platform.index()).append(": ").append(platform.name())
                    .append(" (").append(platform.version().strip()).append(")\n");
            for (ClDevice device : platform.devices()) {
                text.append("    device ").append(device.index()).append(": ").append(device.name().strip())
                        .append(", ").append(device.type())
                        .append(", ").append(gibibytes(device.globalMemoryBytes())).append('\n');
            }
        }
        appendStatus(text, "LWJGL: ", lwjglOpenCl);
        return text.toString();
    }

    private static void appendStatus(StringBuilder text, String label, Availability availability) {
        text.append(label).append(availability.available() ? " available: " : " unavailable: ")
                .append(availability.detail()).append('\n');
    }

    private static String gibibytes(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
}
