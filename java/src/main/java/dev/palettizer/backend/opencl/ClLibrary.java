package dev.palettizer.backend.opencl;

import dev.palettizer.backend.BackendException;
import dev.palettizer.nativeloader.Availability;
import dev.palettizer.nativeloader.NativeEnvironment;
import org.lwjgl.opencl.CL;
import org.lwjgl.system.Configuration;

/**
 * LWJGL's OpenCL binding, configured and loaded once per JVM. Never throws while loading: a missing
 * ICD loader, no installed platform or a broken LWJGL becomes an unavailable {@link Availability}
 * with the reason.
 */
final class ClLibrary {
    /** Debian's ocl-icd-libopencl1 installs only this name; LWJGL looks for libOpenCL.so by default. */
    static final String LIBRARY = "libOpenCL.so.1";

    private ClLibrary() {}

    private static volatile boolean loaded;

    private static final class Loaded {
        static final Availability STATE = load();
    }

    /** Whether this JVM has probed (and so loaded) OpenCL already. */
    static boolean loaded() {
        return loaded;
    }

    static Availability availability() {
        return Loaded.STATE;
    }

    /** Fails with NOT_AVAILABLE and the reason when OpenCL cannot be used here. */
    static void require() {
        Availability a = availability();
        if (!a.available()) {
            throw new BackendException(BackendException.Status.NOT_AVAILABLE, "OpenCL is not available: " + a.detail());
        }
    }

    private static Availability load() {
        loaded = true;
        // The native-loader's FFM probe answers without LWJGL; without a platform there is nothing to load.
        Availability probed = NativeEnvironment.get().openCl().availability();
        if (!probed.available()) {
            return probed;
        }
        try {
            // Settings must precede LWJGL's first use; a user's -D flag wins.
            if (System.getProperty("org.lwjgl.opencl.libname") == null) {
                Configuration.OPENCL_LIBRARY_NAME.set(LIBRARY);
            }
            if (System.getProperty("org.lwjgl.system.memoryBackend") == null) {
                Configuration.MEMORY_BACKEND.set("ffm");
            }
            CL.getFunctionProvider();
            return probed;
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            return Availability.unavailable("LWJGL could not load the OpenCL library " + LIBRARY + ": " + e);
        }
    }
}
