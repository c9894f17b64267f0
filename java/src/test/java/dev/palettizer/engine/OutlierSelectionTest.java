package dev.palettizer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.palettizer.model.DType;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.SparseOutliers;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which elements dense-and-sparse keeps exactly, and how the clustering is told to ignore them. */
class OutlierSelectionTest {

    private static TensorInput tensor(float[] w, float[] s) {
        TensorInput t = TensorInput.of("w", w, w.length);
        return s == null ? t : t.withSensitivities(new FloatArraySource(s));
    }

    @Test
    void takesTheLargestMagnitudesAndBreaksTiesByPosition() {
        float[] w = {1f, -5f, 5f, 2f, 5f, 0f, -3f};
        SparseOutliers o = OutlierSelection.select(tensor(w, null), 2);
        assertArrayEquals(new long[] {1, 2}, o.positions(), "ties at |w| = 5 go to the lower positions");
        assertArrayEquals(new float[] {-5f, 5f}, o.values());
        assertArrayEquals(new long[] {1, 2, 4, 6}, OutlierSelection.select(tensor(w, null), 4).positions());
    }

    @Test
    void withSensitivitiesTheScoreIsSensitivityTimesSquare() {
        float[] w = {1f, -5f, 5f, 2f};
        float[] s = {100f, 1f, 0f, 10f};
        // Scores 100, 25, 0, 40.
        assertArrayEquals(new long[] {0, 3}, OutlierSelection.select(tensor(w, s), 2).positions());
        assertArrayEquals(new long[] {0, 1, 3}, OutlierSelection.select(tensor(w, s), 3).positions());
    }

    /** Brute force on data with many ties (few distinct levels), across chunk boundaries: same set, same order. */
    @ParameterizedTest
    @ValueSource(ints = {1, 7, 1000, 13107, 65536, 65537})
    void equalsASortByScoreThenPosition(int count) {
        int n = 200_003;
        SplittableRandom r = new SplittableRandom(count);
        float[] w = new float[n];
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (r.nextInt(41) - 20) * 0.125f;
            s[i] = r.nextInt(4) * 0.5f;
        }
        for (float[] sens : Arrays.asList(null, s)) {
            Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -score(w, sens, i))
                    .thenComparingInt(i -> i));
            long[] expected = Arrays.stream(order, 0, count).mapToLong(i -> i).sorted().toArray();
            SparseOutliers got = OutlierSelection.select(tensor(w, sens), count);
            assertArrayEquals(expected, got.positions(), sens == null ? "by |w|" : "by s * w^2");
            for (int i = 0; i < count; i++) {
                assertEquals(w[(int) got.positions()[i]], got.values()[i]);
            }
            assertArrayEquals(got.positions(), OutlierSelection.select(tensor(w, sens), count).positions(),
                    "deterministic");
        }
    }

    private static double score(float[] w, float[] s, int i) {
        double v = w[i];
        return (float) (s == null ? v * v : s[i] * v * v);
    }

    @Test
    void countIsTheRoundedShareAndAtLeastOne() {
        PalettizationSpec spec = PalettizationSpec.defaults();
        assertEquals(0, spec.outlierCount(1000));
        assertEquals(5, spec.withOutlierFraction(0.005).outlierCount(1000));
        assertEquals(1, spec.withOutlierFraction(0.0001).outlierCount(1000));
        assertEquals(1, spec.withOutlierFraction(0.05).outlierCount(1));
    }

    @ParameterizedTest
    @ValueSource(doubles = {-0.01, 0.1, 0.5, 1, Double.NaN, Double.POSITIVE_INFINITY})
    void sharesOutsideTheOpenIntervalAreRefused(double fraction) {
        SpecException e = assertThrows(SpecException.class,
                () -> PalettizationSpec.defaults().withOutlierFraction(fraction));
        assertEquals("outlier_fraction must be in (0, 0.1) (a share of the elements, e.g. 0.005 for 0.5 %), or 0 for"
                + " none; got " + fraction, e.getMessage());
    }

    @Test
    void maskedSensitivitiesAreZeroExactlyAtTheOutliers() {
        int n = 70_000;
        float[] s = new float[n];
        Arrays.fill(s, 2f);
        SparseOutliers o = new SparseOutliers(new long[] {0, 4095, 4096, 65535, 69_999}, new float[5]);
        for (FloatSource base : Arrays.asList(null, new FloatArraySource(s))) {
            FloatSource m = OutlierSelection.masked(base, n, o);
            float[] all = new float[n];
            // Odd piece sizes so that pieces start and end on and between positions.
            for (int off = 0; off < n; off += 4093) {
                m.read(off, all, off, Math.min(4093, n - off));
            }
            float fill = base == null ? 1f : 2f;
            for (int i = 0; i < n; i++) {
                boolean outlier = Arrays.binarySearch(o.positions(), i) >= 0;
                assertEquals(outlier ? 0f : fill, all[i], "element " + i);
            }
        }
    }

    @Test
    void positionRulesNameTheBrokenPosition() {
        assertEquals(null, new SparseOutliers(new long[] {0, 3, 9}, new float[3]).positionProblem(10));
        assertEquals("position[2] = 10 is outside the tensor's 10 elements",
                new SparseOutliers(new long[] {0, 3, 10}, new float[3]).positionProblem(10));
        assertEquals("position[1] = 3 repeats position[0] = 3; positions must be strictly ascending",
                new SparseOutliers(new long[] {3, 3}, new float[2]).positionProblem(10));
        assertEquals("position[1] = 2 is below position[0] = 3; positions must be strictly ascending",
                new SparseOutliers(new long[] {3, 2}, new float[2]).positionProblem(10));
        assertEquals("position[0] = -1 is outside the tensor's 10 elements",
                new SparseOutliers(new long[] {-1}, new float[1]).positionProblem(10));
        assertEquals(2L * (4 + 2), new SparseOutliers(new long[] {1, 2}, new float[2]).storedBytes(10, DType.F16));
        assertEquals(2L * (8 + 4),
                new SparseOutliers(new long[] {1, 2}, new float[2]).storedBytes(1L << 31, DType.F32));
    }
}
