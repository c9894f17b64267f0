package dev.palettizer.nativeloader;

import java.util.Locale;
import java.util.Objects;

/**
 * The native acceleration this machine offers: what the CUDA driver and the OpenCL ICD loader
 * report, plus the operating system and architecture the JVM runs on.
 *
 * <p>{@link #get()} probes once per JVM, on first use, and never throws (short of a
 * {@link VirtualMachineError}). The system property {@code palettizer.probe.disable}, a
 * comma-separated list of {@code cuda} and {@code opencl}, makes those probes report
 * unavailable without loading anything; it is read when the probe runs.
 *
 * <p>Code that chooses a backend can be tested by constructing an environment directly.
 *
 * @param osName the {@code os.name} system property, for example "Linux"
 * @param osArch the {@code os.arch} system property, for example "amd64"
 * @param cuda what the CUDA driver reported
 * @param openCl what the OpenCL ICD loader reported
 */
public record NativeEnvironment(String osName, String osArch, CudaReport cuda, OpenClReport openCl) {

    public NativeEnvironment {
        Objects.requireNonNull(osName, "osName");
        Objects.requireNonNull(osArch, "osArch");
        Objects.requireNonNull(cuda, "cuda");
        Objects.requireNonNull(openCl, "openCl");
    }

    /** Initialised by the JVM on first access, which makes the one probe lazy and thread-safe. */
    private static final class Probed {
        static final NativeEnvironment INSTANCE = probe();
    }

    /** This machine's environment, probed on the first call and cached for the life of the JVM. */
    public static NativeEnvironment get() {
        return Probed.INSTANCE;
    }

    /** Probes afresh, bypassing the cache; for tests that change {@code palettizer.probe.disable}. */
    static NativeEnvironment probe() {
        return new NativeEnvironment(System.getProperty("os.name", "unknown"), System.getProperty("os.arch", "unknown"),
                CudaDriverProbe.probe(), OpenClProbe.probe());
    }

    /**
     * A multi-line summary for {@code palettizer backends --diagnose}: one line per probe saying
     * whether it is available and why not, then one line per platform and device found.
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
