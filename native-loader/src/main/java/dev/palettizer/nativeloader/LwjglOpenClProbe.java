package dev.palettizer.nativeloader;

import org.lwjgl.Version;
import org.lwjgl.opencl.CL10;
import org.lwjgl.system.Configuration;
import org.lwjgl.system.Library;

/**
 * Whether LWJGL's core natives load and reach OpenCL. Points LWJGL at {@code libOpenCL.so.1}
 * (unless {@code org.lwjgl.opencl.libname} already names a library), since Debian's ICD loader
 * ships only that name and LWJGL otherwise looks for {@code libOpenCL.so}, and at its FFM memory
 * backend (unless {@code org.lwjgl.system.memoryBackend} is set). Touches LWJGL's
 * {@code CL} class only after the library has been found, because a failed first touch poisons it
 * for the life of the JVM. Never throws (short of a {@link VirtualMachineError}).
 *
 * <p>{@link #get()} probes once per JVM and caches the answer; {@link #probe()} asks again.
 */
public final class LwjglOpenClProbe {

    static final String NOT_LOADED = "LWJGL OpenCL not loaded: ";

    private LwjglOpenClProbe() {
    }

    /** Initialised by the JVM on first access, which makes the one probe lazy and thread-safe. */
    private static final class Probed {
        static final Availability INSTANCE = probe();
    }

    /** This machine's answer, probed on the first call and cached for the life of the JVM. */
    public static Availability get() {
        return Probed.INSTANCE;
    }

    /** Probes afresh, unless {@code palettizer.probe.disable} lists {@code lwjgl} or {@code opencl}. */
    public static Availability probe() {
        if (DisabledProbes.anyOf("lwjgl", "opencl")) {
            return Availability.unavailable(DisabledProbes.REASON);
        }
        return probe(configuredLibrary());
    }

    /** From constants, since a shaded jar loses the manifest {@link Version#getVersion()} reads. */
    private static String version() {
        return Version.VERSION_MAJOR + "." + Version.VERSION_MINOR + "." + Version.VERSION_REVISION;
    }

    /** Settings read once, when LWJGL first needs them: a user's own {@code -D} value wins. */
    private static <T> void setIfUnset(Configuration<T> setting, T value) {
        if (setting.get() == null) {
            setting.set(value);
        }
    }

    /** The library {@code org.lwjgl.opencl.libname} names, else {@code libOpenCL.so.1}. */
    private static String configuredLibrary() {
        try {
            return Configuration.OPENCL_LIBRARY_NAME.get(OpenClProbe.LIBRARY);
        } catch (RuntimeException | LinkageError e) {
            // LWJGL is not on the class path; probe(String) reports that when it loads LWJGL.
            return OpenClProbe.LIBRARY;
        }
    }

    /**
     * Loads LWJGL and reaches OpenCL through it, once {@code openClLibrary} is found; LWJGL loads
     * the library {@code org.lwjgl.opencl.libname} names, which this sets to {@code openClLibrary}
     * when unset. Tests pass a missing name to stop before LWJGL is touched.
     */
    static Availability probe(String openClLibrary) {
        try {
            NativeLibraryProbe.require(openClLibrary, openClLibrary + " not found (install the OpenCL ICD loader"
                    + " and an ICD, e.g. ocl-icd-libopencl1 and pocl-opencl-icd)");
        } catch (ProbeFailure e) {
            return Availability.unavailable(NOT_LOADED + e.getMessage());
        }
        try {
            // LWJGL's default memory backend on JDK 25 is sun.misc.Unsafe, which prints a warning.
            setIfUnset(Configuration.MEMORY_BACKEND, "ffm");
            Library.initialize();
        } catch (RuntimeException | LinkageError e) {
            return Availability.unavailable("LWJGL core natives could not be loaded: " + LinkageFailures.describe(e));
        }
        try {
            setIfUnset(Configuration.OPENCL_LIBRARY_NAME, openClLibrary);
            // The first touch of CL10 loads the library and binds every OpenCL 1.0 function.
            int[] platforms = new int[1];
            int result = CL10.clGetPlatformIDs(null, platforms);
            String library = Configuration.OPENCL_LIBRARY_NAME.get();
            // The ICD loader answers -1001 when no ICD is installed: LWJGL still reached it.
            return result == 0 || result == OpenClProbe.CL_PLATFORM_NOT_FOUND_KHR
                    ? Availability.available("LWJGL " + version() + " reaches " + library
                            + " (" + (result == 0 ? platforms[0] : 0) + " platform(s))")
                    : Availability.unavailable("clGetPlatformIDs through LWJGL failed with "
                            + OpenClProbe.describe(result));
        } catch (RuntimeException | LinkageError e) {
            return Availability.unavailable("LWJGL could not load OpenCL: " + LinkageFailures.describe(e));
        }
    }
}
