package dev.palettizer.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.palettizer.dkm.DkmWeight;
import dev.palettizer.spec.ClusterDType;
import dev.palettizer.spec.DkmMode;
import dev.palettizer.spec.DkmSpec;
import dev.palettizer.spec.KMeansInit;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Within a step the weight (and in backward the incoming gradient) goes up once, not once per pass, with the
 * same bits as uploading per pass; and no copy outlives its step, failed or not. Counted with the device
 * passes' bytes-uploaded counter on the recompute route (cluster_dim 2, one partition, epsilon 0 so every
 * forward runs all {@value #ITERATIONS} iterations). A device backend's test extends this.
 */
public abstract class DkmResidencyContract {
    private static final int ITERATIONS = 3;
    private static final long[] SHAPE = {128, 64};
    private static final int N = 128 * 64;

    /** The passes under test; skips the test (an assumption) where they cannot run. */
    protected abstract DkmPasses passes();

    /** Their count of per-element bytes copied to the device. */
    protected abstract long bytesUploaded();

    private static DkmSpec spec() {
        return new DkmSpec(2, 2, ITERATIONS, 1e-2, 0.0, 0.0, DkmMode.DKM, ClusterDType.F32, -128, 127, false, 0.0, false,
                0.05, KMeansInit.CPU_KMEANS_PP, 1024, 2_000_000_000L, List.of(), 42L);
    }

    private static float[] gaussian(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[N];
        for (int i = 0; i < N; i++) {
            w[i] = (float) (0.1 * r.nextGaussian());
        }
        return w;
    }

    @Test
    void aRecomputeStepUploadsTheWeightAndGradientOnceWithTheSameBits() {
        DkmPasses passes = passes();
        DkmWeight stepped = new DkmWeight("stepped", SHAPE, spec(), passes);
        DkmWeight perPass = new DkmWeight("per-pass", SHAPE, spec(), new WithoutSteps(passes));
        for (int step = 0; step < 2; step++) {
            float[] w = gaussian(10 + step);
            float[] g = gaussian(20 + step);
            float[] outA = new float[N];
            float[] outB = new float[N];
            float[] gradA = new float[N];
            float[] gradB = new float[N];

            long start = bytesUploaded();
            stepped.forward(w, outA);
            long forwardStepped = bytesUploaded() - start;
            start = bytesUploaded();
            perPass.forward(w, outB);
            long forwardPerPass = bytesUploaded() - start;
            start = bytesUploaded();
            stepped.backward(g, gradA);
            long backwardStepped = bytesUploaded() - start;
            start = bytesUploaded();
            perPass.backward(g, gradB);
            long backwardPerPass = bytesUploaded() - start;

            assertEquals("recompute", stepped.stats().route());
            assertArrayEquals(new int[] {ITERATIONS}, stepped.stats().iterations());
            assertArrayEquals(outB, outA, "forward bits");
            assertArrayEquals(gradB, gradA, "backward bits");
            long bytes = 4L * N;
            // Forward: T sums and one apply read w. Backward: one gradient sums (w, g), then T iterations that
            // read w, the last one also g, and all but the first add into gradIn (which goes up each time).
            assertEquals((ITERATIONS + 1) * bytes, forwardPerPass, "forward, per pass");
            assertEquals(bytes, forwardStepped, "forward, once per step");
            assertEquals((2L * ITERATIONS + 2) * bytes, backwardPerPass, "backward, per pass");
            assertEquals((ITERATIONS + 1) * bytes, backwardStepped, "backward: w and g once, gradIn per accumulation");
        }
    }

    @Test
    void aStepAfterAFailedOneUploadsAgain() {
        DkmPasses passes = passes();
        DkmLayout l = new DkmLayout(N, 64, 128, 2, 128);
        DkmParams p = new DkmParams(4, 2, DkmMode.DKM, 1e-2, 0, false, 0);
        double[] c = {-0.1, -0.1, -0.02, 0.03, 0.02, -0.01, 0.1, 0.1};
        boolean[] active = {true};
        int width = DkmPasses.sumsWidth(p);
        float[] w = gaussian(3);
        DkmData data = DkmData.of(w);
        double[] sums = new double[width];

        long start = bytesUploaded();
        passes.beginStep(data, null);
        try {
            passes.attentionSums(data, l, p, c, active, sums);
            assertThrows(IndexOutOfBoundsException.class, () -> passes.attentionSums(data, l, p, c, active, new double[1]));
        } finally {
            passes.endStep();
        }
        assertEquals(4L * N, bytesUploaded() - start, "the failed pass found the copy");

        // Same object, new contents: the next step must not read the old copy.
        for (int i = 0; i < N; i++) {
            w[i] = -2 * w[i];
        }
        start = bytesUploaded();
        passes.beginStep(data, null);
        try {
            passes.attentionSums(data, l, p, c, active, sums);
        } finally {
            passes.endStep();
        }
        assertEquals(4L * N, bytesUploaded() - start, "uploaded again");
        double[] fresh = new double[width];
        passes.attentionSums(DkmData.of(w.clone()), l, p, c, active, fresh);
        assertArrayEquals(fresh, sums, "the sums of the new contents");

        // A failed forward of the engine ends its step too: the next forward uploads and matches a per-pass twin.
        DkmWeight stepped = new DkmWeight("stepped", SHAPE, spec(), passes);
        DkmWeight perPass = new DkmWeight("per-pass", SHAPE, spec(), new WithoutSteps(passes));
        float[] outA = new float[N];
        float[] outB = new float[N];
        float[] good = gaussian(4);
        stepped.forward(good, outA);
        perPass.forward(good, outB);
        float[] bad = good.clone();
        bad[7] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> stepped.forward(bad, new float[N]));
        assertThrows(IllegalArgumentException.class, () -> perPass.forward(bad, new float[N]));
        start = bytesUploaded();
        stepped.forward(good, outA);
        assertEquals(4L * N, bytesUploaded() - start, "the step after the failed one");
        perPass.forward(good, outB);
        assertArrayEquals(outB, outA, "forward bits after a failed step");
    }

    /** The same passes without the step hooks: every pass uploads its inputs, as before steps existed. */
    private record WithoutSteps(DkmPasses d) implements DkmPasses {
        @Override
        public void attentionSums(DkmData w, DkmLayout l, DkmParams p, double[] cIn, boolean[] active, double[] sums) {
            d.attentionSums(w, l, p, cIn, active, sums);
        }

        @Override
        public void attentionApply(DkmData w, DkmData out, DkmLayout l, DkmParams p, double[] cIn, double[] cOut,
                                   boolean[] active) {
            d.attentionApply(w, out, l, p, cIn, cOut, active);
        }

        @Override
        public void attentionGradientSums(DkmData w, DkmData g, DkmLayout l, DkmParams p, double[] cIn, boolean[] active,
                                          double[] sums) {
            d.attentionGradientSums(w, g, l, p, cIn, active, sums);
        }

        @Override
        public void backwardIteration(DkmData w, DkmData g, DkmData gradIn, boolean accumulate, DkmLayout l, DkmParams p,
                                      double[] cIn, double[] cOut, double[] e, double[] f, byte[] role, double[] gcIn) {
            d.backwardIteration(w, g, gradIn, accumulate, l, p, cIn, cOut, e, f, role, gcIn);
        }

        @Override
        public boolean countValues(DkmData w, DkmLayout l, ValueKeys keys, double[] counts) {
            return d.countValues(w, l, keys, counts);
        }

        @Override
        public void sumByValue(DkmData w, DkmData g, DkmLayout l, ValueKeys keys, double[] sums) {
            d.sumByValue(w, g, l, keys, sums);
        }

        @Override
        public void gatherByValue(DkmData w, DkmData out, DkmLayout l, ValueKeys keys, float[] table) {
            d.gatherByValue(w, out, l, keys, table);
        }

        @Override
        public void gatherGradientByValue(DkmData w, DkmData g, DkmData gradIn, DkmLayout l, ValueKeys keys, float[] a,
                                          float[] b) {
            d.gatherGradientByValue(w, g, gradIn, l, keys, a, b);
        }

        @Override
        public void assign(DkmData w, DkmLayout l, DkmParams p, double[] c, IndexSink indices) {
            d.assign(w, l, p, c, indices);
        }

        @Override
        public long firstNonFinite(DkmData data) {
            return d.firstNonFinite(data);
        }
    }
}
