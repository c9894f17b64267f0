package dev.palettizer.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.BackendException;
import dev.palettizer.backend.BackendRegistry;
import dev.palettizer.backend.BackendStatus;
import dev.palettizer.config.dkm.DKMPalettizerConfig;
import dev.palettizer.config.dkm.ModuleDKMPalettizerConfig;
import dev.palettizer.spec.DkmMode;
import dev.palettizer.spec.SpecException;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Where {@link DKMPalettizer} runs its per-element passes ({@link DkmOptions#backend()}): the names it takes,
 * an unavailable backend failing with its probe's reason, and a few training steps on OpenCL agreeing with
 * Java within relative 1e-5 of the largest |value| (the kernels sum in another order, see
 * kernels/common/dkm_core.h; the difference stays at rounding level through the steps).
 */
class DkmBackendSelectionTest {
    private static final long[] SHAPE = {64, 48};

    @Test
    void theDkmBackendsAreNamedAndOthersRefused() {
        assertEquals(List.of("auto", "java", "opencl", "cuda"), DkmOptions.BACKENDS);
        for (String name : DkmOptions.BACKENDS) {
            assertEquals(name, DkmOptions.defaults().withBackend(name.toUpperCase()).backend());
        }
        SpecException e = assertThrows(SpecException.class, () -> DkmOptions.defaults().withBackend("metal"));
        assertTrue(e.getMessage().contains("'metal'") && e.getMessage().contains("opencl"), e.getMessage());
    }

    private static boolean available(String backend) {
        return BackendRegistry.discover().statuses().stream().anyMatch(s -> s.name().equals(backend)
                && s instanceof BackendStatus.Built b && b.availability().available() && !b.devices().isEmpty());
    }

    @Test
    void anUnavailableBackendFailsAtPrepareWithItsProbesReason() {
        Assumptions.assumeFalse(available("cuda"), "a CUDA device is here: nothing unavailable to name");
        float[] w = values(SHAPE[0] * SHAPE[1], false, 1);
        try (DKMPalettizer dkm = new DKMPalettizer(model(w), config(ModuleDKMPalettizerConfig.builder().nBits(2)),
                DkmOptions.defaults().withWorkers(2).withBackend("cuda"))) {
            BackendException e = assertThrows(BackendException.class, dkm::prepare);
            assertEquals(BackendException.Status.NOT_AVAILABLE, e.status(), e.getMessage());
            assertTrue(e.getMessage().contains("cuda") || e.getMessage().contains("CUDA"), e.getMessage());
        }
    }

    @ParameterizedTest
    @CsvSource({"false, 1, DKM, recompute", "true, 1, DKM, values", "true, 1, GSM, values", "false, 2, DKM, recompute",
        "false, 1, HARD, recompute"})
    void openClStepsAgreeWithJava(boolean fp16, int clusterDim, DkmMode mode, String route) {
        Assumptions.assumeTrue(available("opencl"), "no usable OpenCL device");
        float[] w = values(SHAPE[0] * SHAPE[1], fp16, 2);
        ModuleDKMPalettizerConfig.Builder b = ModuleDKMPalettizerConfig.builder().nBits(3).clusterDim(clusterDim)
                .palettMode(mode).palettTau(1e-3).partitionSize(16 * 48);
        float[][] java = steps(w, b, "java", route);
        float[][] opencl = steps(w, b, "opencl", route);
        for (int k = 0; k < java.length; k++) {
            double scale = 0;
            double err = 0;
            for (int i = 0; i < w.length; i++) {
                scale = Math.max(scale, Math.abs(java[k][i]));
                err = Math.max(err, Math.abs(java[k][i] - opencl[k][i]));
            }
            assertTrue(err <= 1e-5 * scale, "step " + k / 2 + (k % 2 == 0 ? " forward" : " backward") + " differs by "
                    + err + " of " + scale);
        }
    }

    /** Forward and backward of three steps: [2 * step] the forward output, [2 * step + 1] the input gradient. */
    private static float[][] steps(float[] w, ModuleDKMPalettizerConfig.Builder b, String backend, String route) {
        float[][] out = new float[6][];
        try (DKMPalettizer dkm = new DKMPalettizer(model(w.clone()), config(b),
                DkmOptions.defaults().withWorkers(2).withSeed(5).withBackend(backend))) {
            dkm.prepare();
            for (int step = 0; step < 3; step++) {
                out[2 * step] = new float[w.length];
                out[2 * step + 1] = new float[w.length];
                dkm.forward("fc1.weight", w, out[2 * step]);
                dkm.backward("fc1.weight", values(w.length, false, 10 + step), out[2 * step + 1]);
                dkm.step();
            }
            assertEquals(route, dkm.report().get("fc1.weight").route(), backend);
        }
        return out;
    }

    private static ModelWeights model(float[] w) {
        return ModelWeights.builder().add("fc1.weight", w, SHAPE).build();
    }

    private static DKMPalettizerConfig config(ModuleDKMPalettizerConfig.Builder b) {
        return DKMPalettizerConfig.of(b.build());
    }

    private static float[] values(long n, boolean fp16, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[(int) n];
        for (int i = 0; i < n; i++) {
            float v = (float) (0.1 * r.nextGaussian());
            w[i] = fp16 ? Float.float16ToFloat(Float.floatToFloat16(v)) : v;
        }
        return w;
    }
}
