package dev.palettizer.nativeloader;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Whether JCuda's driver-API natives load here. Touches {@link JCudaDriver} only after
 * {@code libcuda.so.1} has been found, because without the driver its first touch throws
 * {@code UnsatisfiedLinkError} and every later one {@code NoClassDefFoundError}, for the life of
 * the JVM. Never throws (short of a {@link VirtualMachineError}).
 *
 * <p>{@link #get()} probes once per JVM and caches the answer; {@link #probe()} asks again.
 */
public final class JcudaProbe {

    static final String NOT_LOADED = "JCuda natives not loaded: ";

    private JcudaProbe() {
    }

    /** Initialised by the JVM on first access, which makes the one probe lazy and thread-safe. */
    private static final class Probed {
        static final Availability INSTANCE = probe();
    }

    /** This machine's answer, probed on the first call and cached for the life of the JVM. */
    public static Availability get() {
        return Probed.INSTANCE;
    }

    /** Probes afresh, unless {@code palettizer.probe.disable} lists {@code jcuda} or {@code cuda}. */
    public static Availability probe() {
        if (DisabledProbes.anyOf("jcuda", "cuda")) {
            return Availability.unavailable(DisabledProbes.REASON);
        }
        return probe(CudaDriverProbe.LIBRARY);
    }

    /**
     * Loads JCuda's natives once {@code driverLibrary} is found. Tests pass a library that exists
     * to reach the real load of JCuda's natives, which still link against {@code libcuda.so.1}.
     */
    static Availability probe(String driverLibrary) {
        try {
            NativeLibraryProbe.require(driverLibrary, driverLibrary + " not found (no NVIDIA driver on this machine)");
        } catch (ProbeFailure e) {
            return Availability.unavailable(NOT_LOADED + e.getMessage());
        }
        try {
            // Needs no cuInit and no device: it only proves the JNI library and the driver linked.
            int[] version = new int[1];
            int result = JCudaDriver.cuDriverGetVersion(version);
            if (result != CUresult.CUDA_SUCCESS) {
                return Availability.unavailable(NOT_LOADED + "cuDriverGetVersion failed with "
                        + CudaDriverProbe.describe(result));
            }
            return Availability.available("JCuda natives loaded (driver for CUDA "
                    + CudaReport.versionString(version[0]) + ")");
        } catch (RuntimeException | LinkageError e) {
            return Availability.unavailable("JCuda natives could not be loaded: " + LinkageFailures.describe(e));
        }
    }
}
