package dev.palettizer.nativeloader;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LinkageFailuresTest {

    /** The shape of JCuda's message: both load attempts' stack traces inside one error. */
    private static final String JCUDA_MESSAGE = """
            Error while loading native library "JCudaDriver-12.6.0-linux-x86_64"
            Operating system name: Linux
            ---(start of nested stack traces)---
            Stack trace from the attempt to load the library as a file:
            java.lang.UnsatisfiedLinkError: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /usr/lib
            \tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2285)
            Stack trace from the attempt to load the library as a resource:
            java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver.so: libcuda.so.1: cannot open shared object file: No such file or directory
            \tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)
            ---(end of nested stack traces)---
            """;

    @Test
    void keepsTheDynamicLinkersLineOfAMultiLineMessage() {
        assertEquals("/tmp/libJCudaDriver.so: libcuda.so.1: cannot open shared object file: No such file or directory",
                LinkageFailures.describe(new UnsatisfiedLinkError(JCUDA_MESSAGE)));
    }

    @Test
    void findsTheLinkersLineInTheCauseOfALaterTouch() {
        NoClassDefFoundError later = new NoClassDefFoundError("Could not initialize class jcuda.driver.JCudaDriver");
        later.initCause(new ExceptionInInitializerError("Exception java.lang.UnsatisfiedLinkError: " + JCUDA_MESSAGE
                + " [in thread \"main\"]"));

        assertEquals("/tmp/libJCudaDriver.so: libcuda.so.1: cannot open shared object file: No such file or directory",
                LinkageFailures.describe(later));
    }

    @Test
    void missingClassSaysItIsNotOnTheClassPath() {
        assertEquals("class org.lwjgl.opencl.CL10 is not on the class path",
                LinkageFailures.describe(new NoClassDefFoundError("org/lwjgl/opencl/CL10")));
    }

    @Test
    void otherErrorsKeepTheirFirstLineAndRootCause() {
        assertEquals("UnsatisfiedLinkError: Failed to locate library: liblwjgl.so",
                LinkageFailures.describe(new UnsatisfiedLinkError("Failed to locate library: liblwjgl.so\nmore")));
        NoClassDefFoundError later = new NoClassDefFoundError("Could not initialize class org.lwjgl.opencl.CL");
        later.initCause(new ExceptionInInitializerError("Exception java.lang.IllegalStateException: no OpenCL"));
        assertEquals("Could not initialize class org.lwjgl.opencl.CL (no OpenCL)", LinkageFailures.describe(later));
    }
}
