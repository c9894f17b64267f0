package dev.palettizer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.JavaBackend;
import dev.palettizer.model.DType;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.SparseOutliers;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Dense-and-sparse palettization: the LUT is fitted as if the outliers were not there, the
 * reconstruction holds them exactly, and the reported error counts them as exact.
 */
class OutlierPalettizationTest {
    private static final ClusterMode EXACT = new ClusterMode(false, 4);
    private static ForkJoinPool pool;
    private static ModelPalettizer models;
    private static TensorPalettizer engine;

    @BeforeAll
    static void setUp() {
        pool = new ForkJoinPool(2);
        JavaBackend backend = new JavaBackend(pool);
        models = new ModelPalettizer(backend, EngineOptions.defaults(), pool);
        engine = new TensorPalettizer(backend, EngineOptions.defaults(), pool);
    }

    @AfterAll
    static void tearDown() {
        pool.close();
    }

    private static PalettizedTensor palettize(TensorInput t, PalettizationSpec spec, ClusterMode mode) {
        return ((Outcome.Palettized) engine.palettize(t, spec, mode)).tensor();
    }

    /** Laplace weights with a few rows of large values, as attention projections have. */
    private static float[] weights(int rows, int cols, long seed) {
        float[] w = Oracle.laplace(rows * cols, 0.02, seed);
        for (int i = 0; i < w.length; i += 97) {
            w[i] *= 40;
        }
        return w;
    }

    private static float[] without(float[] values, long[] positions) {
        float[] rest = new float[values.length - positions.length];
        int n = 0;
        for (int i = 0; i < values.length; i++) {
            if (Arrays.binarySearch(positions, i) < 0) {
                rest[n++] = values[i];
            }
        }
        return rest;
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {3, 4})
    void theLutIsTheLutOfTheTensorWithoutTheOutliers(int bits) {
        int rows = 96;
        int cols = 80;
        float[] w = weights(rows, cols, bits);
        float[] s = Oracle.uniform(rows * cols, 11);
        PalettizationSpec spec = PalettizationSpec.defaults().withBits(bits).withOutlierFraction(0.01);
        for (float[] sens : Arrays.asList(null, s)) {
            TensorInput in = TensorInput.of("w", w, rows, cols);
            in = sens == null ? in : in.withSensitivities(new FloatArraySource(sens));
            PalettizedTensor t = palettize(in, spec, EXACT);
            SparseOutliers o = t.outliers();
            assertEquals(Math.round(0.01 * rows * cols), o.count());

            long[] kept = o.positions();
            TensorInput rest = TensorInput.of("rest", without(w, kept), rows * cols - kept.length);
            if (sens != null) {
                rest = rest.withSensitivities(new FloatArraySource(without(sens, kept)));
            }
            PalettizedTensor reference = palettize(rest, spec.withOutlierFraction(0), EXACT);
            assertArrayEquals(reference.lut(), t.lut(), "the optimal LUT of the remaining elements");

            float[] rebuilt = models.reconstruct(t);
            for (int i = 0; i < o.count(); i++) {
                assertEquals(Float.floatToRawIntBits(w[(int) kept[i]]), Float.floatToRawIntBits(rebuilt[(int) kept[i]]),
                        "outlier " + kept[i] + " exact");
            }
            double sse = Oracle.sse(w, rebuilt, null);
            assertEquals(sse, t.error().sse(), 1e-9 * sse, "reported SSE is the reconstruction's, outliers at 0");
            double weighted = Oracle.sse(w, rebuilt, sens);
            assertEquals(weighted, t.error().weightedSse(), 1e-9 * weighted);
            assertEquals(reference.error().sse(), t.error().sse(), 1e-9 * sse, "the remaining elements' error only");
            assertEquals((long) rows * cols, t.error().count());
        }
    }

    @Test
    void outliersLowerTheErrorOfHeavyTailedWeights() {
        float[] w = weights(128, 64, 5);
        PalettizationSpec spec = PalettizationSpec.defaults().withBits(3);
        TensorInput in = TensorInput.of("w", w, 128, 64);
        PalettizedTensor dense = palettize(in, spec, EXACT);
        PalettizedTensor sparse = palettize(in, spec.withOutlierFraction(0.005), EXACT);
        assertNull(dense.outliers());
        assertTrue(sparse.error().sse() < 0.5 * dense.error().sse(),
                sparse.error().sse() + " vs " + dense.error().sse());
        assertEquals(dense.compressedBytes() + 41L * (4 + 4), sparse.compressedBytes(),
                "41 outliers of 8192 cost an int32 position and an F32 value each");
    }

    @Test
    void fastModeAndGroupsAndScalesKeepTheOutliersExact() {
        int rows = 64;
        int cols = 48;
        float[] w = weights(rows, cols, 9);
        // A group whose every element is an outlier must not read as all-zero sensitivities.
        Arrays.fill(w, 0, 2 * cols, 50f);
        for (int i = 0; i < 2 * cols; i++) {
            w[i] += i;
        }
        PalettizationSpec spec = PalettizationSpec.defaults().withGranularity(Granularity.grouped(0, 2))
                .withPerChannelScale(true).withOutlierFraction(0.04);
        for (ClusterMode mode : new ClusterMode[] {EXACT, new ClusterMode(true, 4)}) {
            Outcome.Palettized outcome =
                    (Outcome.Palettized) engine.palettize(TensorInput.of("w", w, rows, cols), spec, mode);
            assertNull(outcome.note(), "an all-outlier group is no fast-mode collapse");
            PalettizedTensor t = outcome.tensor();
            float[] rebuilt = models.reconstruct(t);
            for (long p : t.outliers().positions()) {
                assertEquals(w[(int) p], rebuilt[(int) p], 0f);
            }
            assertEquals(0, t.outliers().positions()[0], "the large rows are the outliers");
            assertEquals(Oracle.sse(w, rebuilt, null), t.error().sse(), 1e-9 * t.error().signalEnergy());
        }
    }

    /** Ragged groups run as two parts: the outliers are chosen on the whole tensor and masked in both parts. */
    @Test
    void raggedGroupsTakeTheTensorsOutliers() {
        int rows = 30;
        int cols = 40;
        float[] w = weights(rows, cols, 21);
        float[] s = Oracle.uniform(rows * cols, 4);
        PalettizationSpec ragged = PalettizationSpec.defaults().withGranularity(Granularity.groupedRagged(8))
                .withOutlierFraction(0.02);
        LutQuantSpec int8 = new LutQuantSpec(LutDType.INT8, QScheme.SYMMETRIC);
        for (PalettizationSpec spec : List.of(ragged, ragged.withLutQuant(int8))) {
            TensorInput in = TensorInput.of("w", w, rows, cols).withSensitivities(new FloatArraySource(s));
            PalettizedTensor t = palettize(in, spec, EXACT);
            assertEquals(4, t.groups());
            SparseOutliers o = t.outliers();
            assertEquals(24, o.count());
            assertArrayEquals(OutlierSelection.select(in, 24).positions(), o.positions(), "chosen on the whole tensor");
            float[] rebuilt = models.reconstruct(t);
            for (long p : o.positions()) {
                assertEquals(w[(int) p], rebuilt[(int) p], 0f);
            }
            double sse = Oracle.sse(w, rebuilt, null);
            assertEquals(sse, t.error().sse(), 1e-9 * sse);
            double weighted = Oracle.sse(w, rebuilt, s);
            assertEquals(weighted, t.error().weightedSse(), 1e-9 * weighted, "the outliers weigh nothing");
        }
    }

    @Test
    void vectorsAndHalfPrecisionKeepTheOutliersExact() {
        int rows = 32;
        int cols = 64;
        float[] w = weights(rows, cols, 13);
        for (int i = 0; i < w.length; i++) {
            w[i] = Float.float16ToFloat(Float.floatToFloat16(w[i]));
        }
        TensorInput in = new TensorInput("h", DType.F16, new long[] {rows, cols}, new FloatArraySource(w), null);
        PalettizationSpec spec = PalettizationSpec.defaults().withClusterDim(2).withOutlierFraction(0.02);
        PalettizedTensor t = palettize(in, spec, EXACT);
        float[] rebuilt = models.reconstruct(t);
        for (long p : t.outliers().positions()) {
            assertEquals(w[(int) p], rebuilt[(int) p], 0f);
        }
        assertEquals(Oracle.sse(w, rebuilt, null), t.error().sse(), 1e-9 * t.error().signalEnergy());
    }
}
