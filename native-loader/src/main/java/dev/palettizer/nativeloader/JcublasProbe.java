package dev.palettizer.nativeloader;

import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasStatus;
import jcuda.libraryPropertyType;

/**
 * Whether JCublas can be used: its natives link against {@code libcublas.so.12} (CUDA 12), which
 * machines with only CUDA 13 lack. Checks for that library and for
 * JCuda's natives before touching {@link JCublas2}, whose first failed touch would poison the class
 * for the life of the JVM. Never throws (short of a {@link VirtualMachineError}); every reason it
 * gives ends by saying that the hand-written kernels are used instead.
 *
 * <p>{@link #get()} probes once per JVM and caches the answer, so the CUDA backend can ask lazily,
 * when cuBLAS would first help; {@link #probe()} asks again.
 */
public final class JcublasProbe {

    static final String LIBRARY = "libcublas.so.12";
    static final String FALLBACK = ": the hand-written kernels are used";

    private JcublasProbe() {
    }

    /** Initialised by the JVM on first access, which makes the one probe lazy and thread-safe. */
    private static final class Probed {
        static final Availability INSTANCE = probe();
    }

    /** This machine's answer, probed on the first call and cached for the life of the JVM. */
    public static Availability get() {
        return Probed.INSTANCE;
    }

    /** Probes afresh, unless {@code palettizer.probe.disable} lists {@code jcublas} or {@code cuda}. */
    public static Availability probe() {
        if (DisabledProbes.anyOf("jcublas", "cuda")) {
            return Availability.unavailable(DisabledProbes.REASON + FALLBACK);
        }
        return probe(LIBRARY, JcudaProbe.get());
    }

    /**
     * Loads JCublas once {@code cublasLibrary} is found and JCuda works. Tests pass a library that
     * exists and a JCuda answer of their choice to reach each later step.
     */
    static Availability probe(String cublasLibrary, Availability jcuda) {
        try {
            NativeLibraryProbe.require(cublasLibrary, cublasLibrary + " not found");
        } catch (ProbeFailure e) {
            return Availability.unavailable(e.getMessage() + FALLBACK);
        }
        if (!jcuda.available()) {
            return Availability.unavailable("JCublas needs JCuda (" + jcuda.detail() + ")" + FALLBACK);
        }
        try {
            // Asks the library for its own version: no handle, no device, no CUDA context.
            int[] major = new int[1];
            int[] minor = new int[1];
            int status = JCublas2.cublasGetProperty(libraryPropertyType.MAJOR_VERSION, major);
            if (status == cublasStatus.CUBLAS_STATUS_SUCCESS) {
                status = JCublas2.cublasGetProperty(libraryPropertyType.MINOR_VERSION, minor);
            }
            if (status != cublasStatus.CUBLAS_STATUS_SUCCESS) {
                return Availability.unavailable("cublasGetProperty failed with "
                        + cublasStatus.stringFor(status) + FALLBACK);
            }
            return Availability.available("JCublas loaded (cuBLAS " + major[0] + "." + minor[0] + ")");
        } catch (RuntimeException | LinkageError e) {
            return Availability.unavailable("JCublas natives could not be loaded: "
                    + LinkageFailures.describe(e) + FALLBACK);
        }
    }
}
