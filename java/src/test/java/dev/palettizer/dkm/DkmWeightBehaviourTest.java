package dev.palettizer.dkm;

import static dev.palettizer.dkm.DkmGradientCheck.gaussian;
import static dev.palettizer.dkm.DkmGradientCheck.simple;
import static dev.palettizer.dkm.DkmGradientCheck.spec;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.JavaDkmPasses;
import dev.palettizer.model.DType;
import dev.palettizer.spec.ClusterDType;
import dev.palettizer.spec.DkmMode;
import dev.palettizer.spec.DkmSpec;
import dev.palettizer.spec.KMeansInit;
import dev.palettizer.spec.SpecException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DkmWeightBehaviourTest {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static float[][] steps(DkmWeight weight, float[] w, int steps) {
        float[] out = new float[w.length];
        float[] grad = new float[w.length];
        float[] g = gaussian(w.length, 1, false, 99);
        for (int s = 0; s < steps; s++) {
            weight.forward(w, out);
            weight.backward(g, grad);
        }
        return new float[][] {out, grad};
    }

    @ParameterizedTest
    @ValueSource(strings = {"DKM", "GSM", "HARD"})
    void uniquifiedAndRecomputedRoutesAgreeOnFp16Values(String mode) {
        // Same math, different summation order (tables vs elements): 1e-5 relative.
        DkmSpec s = spec(4, 1, 3, 1e-3, 0, DkmMode.valueOf(mode), ClusterDType.I8, true, 0.01, false, 2_000_000_000L, List.of());
        float[] w = gaussian(5000, 0.1, true, 3);
        DkmWeight values = new DkmWeight("v", new long[] {5000}, s, DkmGradientCheck.PASSES);
        DkmWeight recompute = new DkmWeight("r", new long[] {5000}, s, DkmGradientCheck.PASSES);
        recompute.valuesRouteAllowed = false;
        float[][] a = steps(values, w, 2);
        float[][] b = steps(recompute, w, 2);
        assertEquals("values", values.stats().route());
        assertEquals("recompute", recompute.stats().route());
        for (int k = 0; k < 2; k++) {
            double scale = 0;
            double err = 0;
            for (int i = 0; i < w.length; i++) {
                scale = Math.max(scale, Math.abs(a[k][i]));
                err = Math.max(err, Math.abs(a[k][i] - b[k][i]));
            }
            assertTrue(err <= 1e-5 * scale, (k == 0 ? "forward" : "backward") + " differs by " + err + " of " + scale);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void sameBitsForOneAndFourThreads(boolean fp16) {
        DkmSpec s = simple(4, 1, 1e-3, DkmMode.GSM);
        float[] w = gaussian(100_000, 0.1, fp16, 4);
        try (JavaDkmPasses one = new JavaDkmPasses(1); JavaDkmPasses four = new JavaDkmPasses(4)) {
            float[][] a = steps(new DkmWeight("w", new long[] {100_000}, s, one), w, 2);
            float[][] b = steps(new DkmWeight("w", new long[] {100_000}, s, four), w, 2);
            assertArrayEquals(a[0], b[0]);
            assertArrayEquals(a[1], b[1]);
        }
        DkmSpec vec = simple(3, 2, 1e-3, DkmMode.DKM);
        try (JavaDkmPasses one = new JavaDkmPasses(1); JavaDkmPasses four = new JavaDkmPasses(4)) {
            float[][] a = steps(new DkmWeight("w", new long[] {100_000}, vec, one), w, 1);
            float[][] b = steps(new DkmWeight("w", new long[] {100_000}, vec, four), w, 1);
            assertArrayEquals(a[0], b[0]);
            assertArrayEquals(a[1], b[1]);
        }
    }

    @Test
    void badInputNamesTheWeightAndLeavesStateIntact() {
        DkmWeight weight = new DkmWeight("layers.3.mlp.weight", new long[] {300}, simple(2, 1, 1e-2, DkmMode.DKM), DkmGradientCheck.PASSES);
        float[] w = gaussian(300, 1, false, 5);
        float[] out = new float[300];
        float[] grad = new float[300];
        IllegalStateException early = assertThrows(IllegalStateException.class, () -> weight.backward(new float[300], grad));
        assertTrue(early.getMessage().contains("layers.3.mlp.weight"), early.getMessage());
        IllegalArgumentException len = assertThrows(IllegalArgumentException.class, () -> weight.forward(new float[299], out));
        assertTrue(len.getMessage().contains("layers.3.mlp.weight") && len.getMessage().contains("299") && len.getMessage().contains("300"),
                len.getMessage());
        weight.forward(w, out);
        float[] lutBefore = weight.lut()[0];
        float[] bad = gaussian(300, 1, false, 6);
        bad[123] = Float.NaN;
        bad[200] = Float.NaN;
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> weight.backward(bad, grad));
        assertTrue(nan.getMessage().contains("layers.3.mlp.weight") && nan.getMessage().contains("index 123"), nan.getMessage());
        assertArrayEquals(lutBefore, weight.lut()[0]);
        // A correct gradient for the same step still works, and so do later steps.
        weight.backward(gaussian(300, 1, false, 6), grad);
        assertThrows(IllegalStateException.class, () -> weight.backward(bad, grad), "one backward per forward");
        float[] wNaN = w.clone();
        wNaN[7] = Float.POSITIVE_INFINITY;
        IllegalArgumentException inf = assertThrows(IllegalArgumentException.class, () -> weight.forward(wNaN, out));
        assertTrue(inf.getMessage().contains("index 7"), inf.getMessage());
        assertEquals(1, weight.stats().step(), "a failed forward is not a step");
        weight.forward(w, out);
        weight.backward(gaussian(300, 1, false, 6), grad);
        assertEquals(2, weight.stats().step());
        for (float v : grad) {
            assertTrue(Float.isFinite(v));
        }
        float[] g = gaussian(300, 1, false, 7);
        weight.forward(w, out);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> weight.backward(g, g)).getMessage()
                .contains("layers.3.mlp.weight"), "aliased gradient arrays are refused");
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment seg = arena.allocate(4L * 450);
            IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class, () -> weight.forward(
                    seg.asSlice(0, 1200), dev.palettizer.model.DType.F32, seg.asSlice(600, 1200), dev.palettizer.model.DType.F32));
            assertTrue(overlap.getMessage().contains("overlaps"), overlap.getMessage());
        }
        assertEquals(3, weight.stats().step(), "refused calls are not steps");
    }

    @Test
    void unsupportedOptionsAreRefusedByName() {
        DkmSpec lambda = new DkmSpec(2, 1, 3, 1e-4, 1e-4, 0.5, DkmMode.DKM, ClusterDType.F32, -128, 127, false, 0, false, 0.05,
                KMeansInit.KMEANS_PP, 1024, 2_000_000_000L, List.of(), 0);
        SpecException e = assertThrows(SpecException.class, () -> new DkmWeight("w", new long[] {100}, lambda, DkmGradientCheck.PASSES));
        assertTrue(e.getMessage().contains("not supported: palett_lambda"), e.getMessage());
        SpecException dim = assertThrows(SpecException.class,
                () -> new DkmWeight("w", new long[] {9, 4}, simple(2, 2, 1e-4, DkmMode.DKM), DkmGradientCheck.PASSES));
        assertTrue(dim.getMessage().contains("not supported: cluster_dim 2"), dim.getMessage());
        DkmSpec permute = spec(2, 1, 3, 1e-4, 0, DkmMode.DKM, ClusterDType.F32, false, 0, false, 2_000_000_000L, List.of(1, 0));
        assertThrows(SpecException.class, () -> new DkmWeight("w", new long[] {100}, permute, DkmGradientCheck.PASSES));
        SpecException small = assertThrows(SpecException.class,
                () -> new DkmWeight("w", new long[] {10}, simple(4, 1, 1e-4, DkmMode.DKM), DkmGradientCheck.PASSES));
        assertTrue(small.getMessage().contains("fewer than the 16 centroids"), small.getMessage());
    }

    @Test
    void clusterTolSplitsDuplicateCentroidsAtTheNextStep() {
        // 3 distinct values for 8 centroids: the optimal 1-D init repeats the last, hard mode keeps the empty
        // ones; step 2 moves the first duplicate of 2 halfway to the next distinct centroid in sorted order,
        // wrapping round to -1 (coremltools' rule): 0.5.
        float[] w = new float[300];
        for (int i = 0; i < w.length; i++) {
            w[i] = new float[] {-1, 0, 2}[i % 3];
        }
        DkmWeight weight = new DkmWeight("w", new long[] {300}, simple(3, 1, 1e-2, DkmMode.HARD), DkmGradientCheck.PASSES);
        steps(weight, w, 1);
        int before = weight.stats().distinctCentroids()[0];
        steps(weight, w, 1);
        double[] start = weight.startCentroids();
        assertEquals(3, before);
        assertArrayEquals(new double[] {-1, 0, 0.5, 2, 2, 2, 2, 2}, start);
    }

    @Test
    void hardenGivesNearestCentroidsOfTheQuantizedLut() {
        DkmSpec s = spec(3, 1, 3, 1e-3, 0, DkmMode.DKM, ClusterDType.I8, false, 0, false, 2_000_000_000L, List.of());
        float[] w = gaussian(1000, 0.1, false, 8);
        DkmWeight weight = new DkmWeight("w", new long[] {1000}, s, DkmGradientCheck.PASSES);
        steps(weight, w, 2);
        int[] idx = new int[1000];
        float[] lut = weight.harden(w, idx)[0];
        assertArrayEquals(weight.lut()[0], lut);
        double min = 0;
        double max = 0;
        for (float c : lut) {
            min = Math.min(min, c);
            max = Math.max(max, c);
        }
        double scale = (max - min) / 255;
        for (float c : lut) {
            double steps = c / scale;
            assertEquals(Math.rint(steps), steps, 1e-3, "an i8 LUT value sits on its grid");
        }
        for (int i = 0; i < w.length; i++) {
            for (float c : lut) {
                assertTrue(Math.abs(w[i] - lut[idx[i]]) <= Math.abs(w[i] - c) + 1e-7);
            }
        }
    }

    @Test
    void fp16SegmentsGiveTheHeapResults() {
        DkmSpec s = simple(4, 1, 1e-3, DkmMode.DKM);
        int n = 20_000;
        float[] w = gaussian(n, 0.1, true, 9);
        float[] g = gaussian(n, 1, true, 10);
        DkmWeight heap = new DkmWeight("w", new long[] {n}, s, DkmGradientCheck.PASSES);
        float[] out = new float[n];
        float[] grad = new float[n];
        heap.forward(w, out);
        heap.backward(g, grad);
        DkmWeight off = new DkmWeight("w", new long[] {n}, s, DkmGradientCheck.PASSES);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = arena.allocate(2L * n);
            MemorySegment gs = arena.allocate(2L * n);
            MemorySegment os = arena.allocate(4L * n);
            MemorySegment gi = arena.allocate(4L * n);
            for (int i = 0; i < n; i++) {
                ws.setAtIndex(U16, i, Float.floatToFloat16(w[i]));
                gs.setAtIndex(U16, i, Float.floatToFloat16(g[i]));
            }
            off.forward(ws, DType.F16, os, DType.F32);
            off.backward(gs, DType.F16, gi, DType.F32);
            assertArrayEquals(out, os.toArray(ValueLayout.JAVA_FLOAT));
            assertArrayEquals(grad, gi.toArray(ValueLayout.JAVA_FLOAT));
            MemorySegment idx = arena.allocate(2L * n);
            off.harden(ws, DType.F16, idx);
            int[] heapIdx = new int[n];
            heap.harden(w, heapIdx);
            for (int i = 0; i < n; i++) {
                assertEquals(heapIdx[i], idx.getAtIndex(U16, i));
            }
        }
    }
}
