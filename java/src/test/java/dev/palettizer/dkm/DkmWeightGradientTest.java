package dev.palettizer.dkm;

import static dev.palettizer.dkm.DkmGradientCheck.gaussian;
import static dev.palettizer.dkm.DkmGradientCheck.simple;
import static dev.palettizer.dkm.DkmGradientCheck.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.spec.ClusterDType;
import dev.palettizer.spec.DkmMode;
import dev.palettizer.spec.DkmSpec;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Must-show 1: our backward against central finite differences of the materialised double oracle, and
 * our forward against the oracle's. Tolerances: forward 1e-6 of max|w| (our output is float, seen: <= 5e-8);
 * gradients 1e-6 (per element, of max|gradient|; directional, of sum|g_i u_i|; seen: <= 6e-8): the FD step
 * is 1e-6 of max|w| in double, so truncation and round-off stay near 1e-8, and our gradient is stored as
 * float. The planted bug must exceed 100x the tolerance.
 * tau = 1e-2 on unit-scale weights keeps the map smooth.
 */
class DkmWeightGradientTest {
    static final double FORWARD_TOL = 1e-6;
    static final double GRAD_TOL = 1e-6;

    private static void assertAgrees(DkmGradientCheck c, String expectedRoute) {
        assertEquals(expectedRoute, c.route, c.toString());
        assertTrue(c.forwardError < FORWARD_TOL, c.toString());
        assertTrue(c.elementError < GRAD_TOL, c.toString());
        assertTrue(c.directionalError < GRAD_TOL, c.toString());
    }

    private static void check(DkmSpec spec, int n, boolean fp16) {
        float[] w = gaussian(n, 1.0, fp16, 11);
        assertAgrees(DkmGradientCheck.run(spec, new long[] {n}, w, true, false), fp16 && spec.clusterDim() == 1 ? "values" : "recompute");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void scalarDkmMatchesOracleAndFiniteDifferences(boolean fp16) {
        check(simple(3, 1, 1e-2, DkmMode.DKM), 600, fp16);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void plantedBugInTheGradientIsCaught(boolean fp16) {
        float[] w = gaussian(600, 1.0, fp16, 11);
        DkmGradientCheck c = DkmGradientCheck.run(simple(3, 1, 1e-2, DkmMode.DKM), new long[] {600}, w, true, true);
        assertTrue(c.forwardError < FORWARD_TOL, c.toString());
        assertTrue(c.elementError > 100 * GRAD_TOL || c.directionalError > 100 * GRAD_TOL, "the planted bug went unnoticed: " + c);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void gsmMatchesWithNoiseFrozenAtTheBasePoint(boolean fp16) {
        check(simple(3, 1, 1e-1, DkmMode.GSM), 500, fp16);
    }

    @ParameterizedTest
    @ValueSource(strings = {"I8", "U8", "F16", "BF16"})
    void lutQuantizationIsStraightThroughOnlyForTheRounding(String type) {
        for (boolean fp16 : new boolean[] {false, true}) {
            check(spec(3, 1, 3, 1e-2, 0, DkmMode.DKM, ClusterDType.valueOf(type), false, 0, false, 2_000_000_000L, List.of()), 500, fp16);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void enforceZeroWithExactZerosInTheWeight(boolean fp16) {
        float[] w = gaussian(500, 1.0, fp16, 12);
        for (int i = 0; i < w.length; i += 10) {
            w[i] = 0;
        }
        DkmSpec s = spec(3, 1, 3, 1e-2, 0, DkmMode.DKM, ClusterDType.F32, true, 0, false, 2_000_000_000L, List.of());
        assertAgrees(DkmGradientCheck.run(s, new long[] {500}, w, true, false), fp16 ? "values" : "recompute");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void pruneThresholdWithAndWithoutEnforceZero(boolean enforceZero) {
        for (boolean fp16 : new boolean[] {false, true}) {
            check(spec(3, 1, 3, 1e-2, 0, DkmMode.DKM, ClusterDType.F32, enforceZero, 0.05, false, 2_000_000_000L, List.of()), 500, fp16);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"DKM", "GSM"})
    void clusterDimTwo(String mode) {
        check(simple(2, 2, 1e-1, DkmMode.valueOf(mode)), 400, false);
        check(spec(2, 2, 3, 1e-1, 0, DkmMode.valueOf(mode), ClusterDType.I8, true, 0.02, false, 2_000_000_000L, List.of()), 400, false);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void hardModeIsTheGradientWithLabelsHeldFixed(boolean fp16) {
        // The oracle recomputes labels, which small steps do not change: its FD is the documented estimator.
        check(simple(2, 1, 1e-2, DkmMode.HARD), 400, fp16);
        check(simple(2, 2, 1e-2, DkmMode.HARD), 400, false);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void epsilonStopsEarlyAndExtraCentroidAddsOne(boolean fp16) {
        DkmSpec s = spec(2, 1, 5, 1e-2, 1e3, DkmMode.DKM, ClusterDType.F32, false, 0, true, 2_000_000_000L, List.of());
        float[] w = gaussian(400, 1.0, fp16, 13);
        DkmWeight weight = new DkmWeight("eps", new long[] {400}, s, DkmGradientCheck.PASSES);
        DkmGradientCheck c = DkmGradientCheck.run(weight, w, 20);
        assertAgrees(c, fp16 ? "values" : "recompute");
        assertEquals(2, weight.stats().iterations()[0], "a huge epsilon stops at the second iteration");
        assertEquals(2, c.oracleIterations);
        assertEquals(5, weight.lut()[0].length, "2^2 + 1 centroids");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void partitionsAlongThePermutedAxis(boolean fp16) {
        // [8, 30] clustered along axis 1 (cluster_permute [1, 0]), 10 channels per LUT: 3 partitions of 80 points.
        DkmSpec s = spec(2, 1, 3, 1e-2, 0, DkmMode.DKM, ClusterDType.F32, false, 0, false, 10, List.of(1, 0));
        float[] w = gaussian(240, 1.0, fp16, 14);
        DkmGradientCheck c = DkmGradientCheck.run(s, new long[] {8, 30}, w, true, false);
        assertAgrees(c, fp16 ? "values" : "recompute");
        DkmSpec s2 = spec(2, 2, 3, 1e-1, 0, DkmMode.DKM, ClusterDType.F32, false, 0, false, 4, List.of());
        assertAgrees(DkmGradientCheck.run(s2, new long[] {8, 30}, w, true, false), "recompute");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void defaultTauOnRealisticWeights(boolean fp16) {
        // Seed 004's defaults (tau 1e-4, epsilon 1e-4, 3 iterations) on weights of std 0.02, 16 centroids.
        float[] w = gaussian(2000, 0.02, fp16, 15);
        DkmGradientCheck c = DkmGradientCheck.run(DkmSpec.defaults(4), new long[] {2000}, w, true, false);
        assertAgrees(c, fp16 ? "values" : "recompute");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void laterStepsStartFromThePreviousCentroidsAndStayExact(boolean fp16) {
        DkmSpec s = spec(3, 1, 3, 1e-1, 0, DkmMode.GSM, ClusterDType.F16, false, 0, false, 2_000_000_000L, List.of());
        float[] w = gaussian(500, 1.0, fp16, 16);
        DkmWeight weight = new DkmWeight("steps", new long[] {500}, s, DkmGradientCheck.PASSES);
        assertAgrees(DkmGradientCheck.run(weight, w, 10), fp16 ? "values" : "recompute");
        float[] lut = weight.lut()[0];
        w[0] = Float.float16ToFloat(Float.floatToFloat16(w[0] + 0.25f));
        DkmGradientCheck second = DkmGradientCheck.run(weight, w, 10);
        double[] start = weight.startCentroids();
        for (int j = 0; j < lut.length; j++) {
            assertEquals(lut[j], start[j], 0.0, "step 2 starts where step 1 ended");
        }
        assertEquals(2, weight.stats().step());
        assertAgrees(second, fp16 ? "values" : "recompute");
    }
}
