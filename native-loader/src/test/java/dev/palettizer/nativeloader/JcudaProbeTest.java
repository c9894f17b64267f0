package dev.palettizer.nativeloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

class JcudaProbeTest {

    private static boolean driverInstalled() {
        return NativeLibraryProbe.probe(CudaDriverProbe.LIBRARY).available();
    }

    @Test
    void machineWithoutDriverNeverTouchesJcuda() {
        assumeFalse(driverInstalled(), "libcuda.so.1 is installed here; this test covers machines without a driver");

        assertEquals(Availability.unavailable(
                        "JCuda natives not loaded: libcuda.so.1 not found (no NVIDIA driver on this machine)"),
                JcudaProbe.probe());
        assertSame(JcudaProbe.get(), JcudaProbe.get());
    }

    @Test
    void missingDriverLibraryIsNamed() {
        assertEquals(Availability.unavailable(
                        "JCuda natives not loaded: libcuda-missing.so.1 not found (no NVIDIA driver on this machine)"),
                JcudaProbe.probe("libcuda-missing.so.1"));
    }

    /**
     * Lets the probe past its driver check with a library that exists, so JCuda's natives really
     * load, and really fail, since they link against the missing libcuda.so.1. The second touch
     * meets JCuda's poisoned class (NoClassDefFoundError, whose kept cause the JVM shortens) and
     * must still give a one-line reason naming JCuda's driver class.
     */
    @Test
    void jcudaNativesFailForRealWithoutTheDriverOnEveryTouch() {
        assumeFalse(driverInstalled(), "libcuda.so.1 is installed here; JCuda's natives would load");

        Availability first = JcudaProbe.probe("libc.so.6");
        Availability second = JcudaProbe.probe("libc.so.6");

        assertFalse(first.available(), first.detail());
        assertTrue(first.detail().startsWith("JCuda natives could not be loaded: "), first.detail());
        assertTrue(first.detail().endsWith("libcuda.so.1: cannot open shared object file: No such file or directory"),
                first.detail());
        assertFalse(second.available(), second.detail());
        assertTrue(second.detail().startsWith("JCuda natives could not be loaded: "), second.detail());
        assertTrue(second.detail().contains("JCudaDriver"), second.detail());
        for (Availability answer : new Availability[] {first, second}) {
            assertFalse(answer.detail().contains("\n"), "one line: " + answer.detail());
        }
    }

    @Test
    void machineWithDriverLoadsJcuda() {
        assumeTrue(driverInstalled(), "libcuda.so.1 is not installed (no NVIDIA driver on this machine)");

        Availability answer = JcudaProbe.probe();

        assertTrue(answer.available(), answer.detail());
        assertTrue(answer.detail().startsWith("JCuda natives loaded (driver for CUDA "), answer.detail());
    }

    @Test
    void disablePropertyStopsTheProbe() {
        for (String listed : new String[] {"jcuda", "cuda"}) {
            assertEquals(Availability.unavailable(DisabledProbes.REASON),
                    SystemProperty.with(DisabledProbes.PROPERTY, listed, JcudaProbe::probe), listed);
        }
    }
}
