package dev.palettizer.nativeloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

class JcublasProbeTest {

    private static final Availability JCUDA_WITHOUT_DRIVER = Availability.unavailable(
            "JCuda natives not loaded: libcuda.so.1 not found (no NVIDIA driver on this machine)");

    private static boolean cublasInstalled() {
        return NativeLibraryProbe.probe(JcublasProbe.LIBRARY).available();
    }

    @Test
    void machineWithoutCublas12UsesTheHandWrittenKernels() {
        assumeFalse(cublasInstalled(), "libcublas.so.12 is installed here");

        assertEquals(Availability.unavailable("libcublas.so.12 not found: the hand-written kernels are used"),
                JcublasProbe.probe());
        assertSame(JcublasProbe.get(), JcublasProbe.get());
    }

    @Test
    void cublasWithoutJcudaIsNotTouched() {
        assertEquals(Availability.unavailable("JCublas needs JCuda (JCuda natives not loaded: libcuda.so.1 not found"
                        + " (no NVIDIA driver on this machine)): the hand-written kernels are used"),
                JcublasProbe.probe("libc.so.6", JCUDA_WITHOUT_DRIVER));
    }

    /**
     * Lets the probe past both checks, so JCublas's natives really load, and really fail, since
     * they link against the missing libcublas.so.12.
     */
    @Test
    void jcublasNativesFailForRealWithoutCublas12() {
        assumeFalse(cublasInstalled(), "libcublas.so.12 is installed here; JCublas's natives would load");

        Availability answer = JcublasProbe.probe("libc.so.6", Availability.available("JCuda stand-in"));

        assertFalse(answer.available(), answer.detail());
        assertTrue(answer.detail().startsWith("JCublas natives could not be loaded: "), answer.detail());
        assertTrue(answer.detail().endsWith("libcublas.so.12: cannot open shared object file: No such file or directory"
                + ": the hand-written kernels are used"), answer.detail());
        assertFalse(answer.detail().contains("\n"), "one line: " + answer.detail());
    }

    @Test
    void machineWithCublas12AndJcudaLoadsJcublas() {
        assumeTrue(cublasInstalled(), "libcublas.so.12 is not installed");
        assumeTrue(JcudaProbe.get().available(), JcudaProbe.get().detail());

        Availability answer = JcublasProbe.probe();

        assertTrue(answer.available(), answer.detail());
        assertTrue(answer.detail().startsWith("JCublas loaded (cuBLAS 12."), answer.detail());
    }

    @Test
    void disablePropertyStopsTheProbe() {
        for (String listed : new String[] {"jcublas", "cuda"}) {
            assertEquals(Availability.unavailable("disabled by palettizer.probe.disable: the hand-written kernels are used"),
                    SystemProperty.with(DisabledProbes.PROPERTY, listed, JcublasProbe::probe), listed);
        }
    }
}
