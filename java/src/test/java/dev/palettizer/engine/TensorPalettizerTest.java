package dev.palettizer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.Palettizer;
import dev.palettizer.model.DType;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import dev.palettizer.spec.SpecException;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Accuracy against the exact optimum (issue 2, must-show 2 and 3), edge cases and determinism. */
class TensorPalettizerTest {
    /** Allowed excess over the optimal (weighted) SSE: 0.1 %. */
    private static final double OPTIMALITY_SLACK = 1.001;
    private static final int N = 4096;
    private static float[] matrix;
    private static Palettizer palettizer;

    @BeforeAll
    static void setUp() {
        matrix = Oracle.laplace(N * N, 0.02, 42);
        palettizer = Palettizer.builder().build();
    }

    @AfterAll
    static void tearDown() {
        palettizer.close();
    }

    private static PalettizationSpec spec(int axis, int groupSize) {
        return PalettizationSpec.defaults().withGranularity(
                axis < 0 ? Granularity.perTensor() : Granularity.grouped(axis, groupSize));
    }

    @ParameterizedTest(name = "4-bit 4096x4096, axis {0} group {1}")
    @CsvSource({"-1, 0", "0, 32", "1, 32"})
    void fourBitIsWithinATenthOfAPercentOfTheOptimum(int axis, int groupSize) {
        PalettizedTensor t = palettizer.palettize(TensorInput.of("w", matrix, N, N), spec(axis, groupSize));
        float[] rebuilt = palettizer.reconstruct(t);
        List<int[]> groups = Oracle.groups(N, N, axis, groupSize);
        for (int[] g : groups) {
            assertTrue(Oracle.distinct(rebuilt, g) <= 16, "at most 16 distinct values per group");
        }
        double sse = Oracle.sse(matrix, rebuilt, null);
        double optimum = Oracle.optimalSse(matrix, null, groups, 16);
        assertTrue(sse <= OPTIMALITY_SLACK * optimum, "SSE " + sse + " vs optimum " + optimum);
        assertEquals(sse, t.error().sse(), 1e-6 * sse, "reported SSE is the reconstruction's");
    }

    @ParameterizedTest(name = "weighted 4-bit 2048x2048, axis {0} group {1}")
    @CsvSource({"-1, 0", "0, 32", "1, 1"})
    void weightedSseIsWithinATenthOfAPercentOfTheWeightedOptimum(int axis, int groupSize) {
        int n = 2048;
        float[] w = Arrays.copyOf(matrix, n * n);
        float[] s = Oracle.uniform(n * n, 5);
        PalettizedTensor t = palettizer.palettize(
                TensorInput.of("w", w, n, n).withSensitivities(new FloatArraySource(s)), spec(axis, groupSize));
        float[] rebuilt = palettizer.reconstruct(t);
        double weighted = Oracle.sse(w, rebuilt, s);
        double optimum = Oracle.optimalSse(w, s, Oracle.groups(n, n, axis, groupSize), 16);
        assertTrue(weighted <= OPTIMALITY_SLACK * optimum, "weighted SSE " + weighted + " vs optimum " + optimum);
        double unweightedRun = Oracle.sse(w, palettizer.reconstruct(
                palettizer.palettize(TensorInput.of("w", w, n, n), spec(axis, groupSize))), s);
        assertTrue(weighted < unweightedRun, "sensitivities lower the weighted error");
    }

    @ParameterizedTest(name = "{0}-bit, no fast mode {1}")
    @CsvSource({"4, false", "4, true", "2, false", "8, true"})
    void fewDistinctValuesComeBackExactly(int bits, boolean exactMode) {
        int k = 1 << bits;
        float[] levels = Oracle.laplace(k, 0.05, 9);
        float[] w = new float[512 * 64];
        for (int i = 0; i < w.length; i++) {
            w[i] = levels[(i * 7919) % k];
        }
        Palettizer p = exactMode
                ? Palettizer.builder().options(EngineOptions.defaults().withFastMode(false)).build()
                : palettizer;
        float[] rebuilt = p.reconstruct(p.palettize(TensorInput.of("w", w, 512, 64),
                PalettizationSpec.defaults().withBits(bits)));
        assertArrayEquals(w, rebuilt);
        if (p != palettizer) {
            p.close();
        }
    }

    @Test
    void constantAndZeroTensorsAreExact() {
        for (float c : new float[] {0f, -0.125f, 3e-7f}) {
            float[] w = new float[4096];
            Arrays.fill(w, c);
            PalettizedTensor t = palettizer.palettize(TensorInput.of("c", w, 64, 64), PalettizationSpec.defaults());
            assertArrayEquals(w, palettizer.reconstruct(t));
            assertEquals(0, t.error().sse());
        }
    }

    @Test
    void nanAndInfinityAreRejectedWithTheFirstBadIndex() {
        float[] w = Arrays.copyOf(matrix, 64 * 64);
        w[100] = Float.NaN;
        w[3000] = Float.POSITIVE_INFINITY;
        TensorDataException e = assertThrows(TensorDataException.class,
                () -> palettizer.palettize(TensorInput.of("layer.w", w, 64, 64), PalettizationSpec.defaults()));
        assertTrue(e.getMessage().contains("layer.w") && e.getMessage().contains("element 100")
                && e.getMessage().contains("[1, 36]"), e.getMessage());
    }

    @Test
    void groupSizeOrClusterDimNotDividingTheChannelsLeavesTheTensorAlone() {
        float[] w = Arrays.copyOf(matrix, 30 * 64);
        Outcome grouped = palettizer.palettizeTensor(TensorInput.of("w", w, 30, 64),
                PalettizationSpec.defaults().withGranularity(Granularity.grouped(0, 32)));
        assertTrue(assertInstanceOf(Outcome.Skipped.class, grouped).reason().contains("group_size 32"));
        Outcome vectors;
        try (Palettizer exact = Palettizer.builder().options(EngineOptions.defaults().withFastMode(false)).build()) {
            vectors = exact.palettizeTensor(TensorInput.of("w", w, 30, 64), PalettizationSpec.defaults().withClusterDim(4));
        }
        assertTrue(assertInstanceOf(Outcome.Skipped.class, vectors).reason().contains("cluster_dim 4"));
    }

    @Test
    void fastModeWithVectorsIsRefused() {
        float[] w = Arrays.copyOf(matrix, 64 * 64);
        SpecException e = assertThrows(SpecException.class, () -> palettizer.palettize(
                TensorInput.of("w", w, 64, 64), PalettizationSpec.defaults().withClusterDim(2)));
        assertTrue(e.getMessage().contains("--no-fast"), e.getMessage());
    }

    @ParameterizedTest(name = "cluster_dim {0}, axis {1}")
    @CsvSource({"2, -1", "4, 0", "2, 1"})
    void vectorsReconstructFromLutEntriesAndMoreBitsHelp(int cd, int axis) {
        int rows = 256;
        int cols = 128;
        float[] w = Arrays.copyOf(matrix, rows * cols);
        EngineOptions exact = EngineOptions.defaults().withFastMode(false);
        try (Palettizer p = Palettizer.builder().options(exact).build()) {
            double previous = Double.POSITIVE_INFINITY;
            for (int bits : new int[] {2, 4, 6}) {
                PalettizationSpec spec = spec(axis, 32).withBits(bits).withClusterDim(cd);
                PalettizedTensor t = p.palettize(TensorInput.of("w", w, rows, cols), spec);
                float[] rebuilt = p.reconstruct(t);
                double sse = Oracle.sse(w, rebuilt, null);
                assertTrue(sse < previous, bits + " bits: SSE " + sse + " not below " + previous);
                previous = sse;
                assertEquals(sse, t.error().sse(), 1e-6 * sse);
            }
        }
    }

    @Test
    void sameSeedGivesTheSameBitsForAnyWorkerCount() {
        float[] w = Arrays.copyOf(matrix, 512 * 256);
        PalettizationSpec spec = PalettizationSpec.defaults().withClusterDim(2).withBits(6);
        EngineOptions options = EngineOptions.defaults().withFastMode(false).withSeed(11);
        PalettizedTensor a;
        PalettizedTensor b;
        try (Palettizer one = Palettizer.builder().workers(1).options(options).build();
             Palettizer two = Palettizer.builder().workers(2).options(options).build()) {
            a = one.palettize(TensorInput.of("w", w, 512, 256), spec);
            b = two.palettize(TensorInput.of("w", w, 512, 256), spec);
        }
        assertArrayEquals(a.lut(), b.lut());
        assertArrayEquals(a.packedIndices(), b.packedIndices());
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"int8, symmetric", "int8, asymmetric", "uint8, symmetric", "uint8, asymmetric", "fp8_e4m3, symmetric",
            "fp8_e5m2, symmetric"})
    void quantizedLutsHoldCodesAndIndicesPointAtTheNearestQuantizedEntry(String dtype, String scheme) {
        float[] w = Arrays.copyOf(matrix, 256 * 256);
        LutQuantSpec q = new LutQuantSpec(LutDType.parse(dtype), QScheme.parse(scheme));
        PalettizedTensor t = palettizer.palettize(TensorInput.of("w", w, 256, 256),
                PalettizationSpec.defaults().withBits(3).withLutQuant(q));
        assertEquals(t.lut().length, t.quantizedLut().codes().length);
        float[] rebuilt = palettizer.reconstruct(t);
        for (int i = 0; i < w.length; i += 97) {
            float best = Float.POSITIVE_INFINITY;
            for (float c : t.lut()) {
                best = Math.min(best, Math.abs(w[i] - c));
            }
            assertEquals(best, Math.abs(w[i] - rebuilt[i]), 1e-7f, "element " + i);
        }
    }

    @Test
    void perChannelScaleLowersTheErrorOnRowsOfDifferentMagnitude() {
        int rows = 128;
        int cols = 256;
        float[] w = Arrays.copyOf(matrix, rows * cols);
        IntStream.range(0, w.length).forEach(i -> w[i] *= 1 + (i / cols) % 8);
        PalettizationSpec plain = PalettizationSpec.defaults().withBits(3);
        double without = palettizer.palettize(TensorInput.of("w", w, rows, cols), plain).error().sse();
        PalettizedTensor scaled = palettizer.palettize(TensorInput.of("w", w, rows, cols), plain.withPerChannelScale(true));
        assertEquals(rows, scaled.channelScales().length);
        assertTrue(scaled.error().sse() < without, scaled.error().sse() + " vs " + without);
        assertEquals(Oracle.sse(w, palettizer.reconstruct(scaled), null), scaled.error().sse(), 1e-6 * without);
    }

    @Test
    void sensitivitiesOfTheWrongShapeAreRejected() {
        float[] w = Arrays.copyOf(matrix, 64 * 64);
        TensorDataException e = assertThrows(TensorDataException.class,
                () -> TensorInput.of("q.weight", w, 64, 64).withSensitivities(new FloatArraySource(new float[100])));
        assertTrue(e.getMessage().contains("q.weight"), e.getMessage());
    }

    /** A mapped model is streamed: the engine releases each tensor's values and sensitivities once clustered. */
    @Test
    void valuesAndSensitivitiesAreReleasedOnceClustered() {
        float[] w = Arrays.copyOf(matrix, 64 * 64);
        float[] s = new float[w.length];
        Arrays.fill(s, 1f);
        ReleaseCounter values = new ReleaseCounter(new FloatArraySource(w));
        ReleaseCounter sens = new ReleaseCounter(new FloatArraySource(s));
        palettizer.palettize(new TensorInput("w", DType.F32, new long[] {64, 64}, values, sens),
                PalettizationSpec.defaults());
        assertEquals(1, values.releases);
        assertEquals(1, sens.releases);
    }

    private static final class ReleaseCounter implements FloatSource {
        private final FloatSource inner;
        int releases;

        ReleaseCounter(FloatSource inner) {
            this.inner = inner;
        }

        @Override
        public long size() {
            return inner.size();
        }

        @Override
        public void read(long offset, float[] dst, int dstOff, int len) {
            inner.read(offset, dst, dstOff, len);
        }

        @Override
        public void release() {
            releases++;
        }
    }
}
