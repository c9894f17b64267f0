package dev.palettizer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.model.FloatArraySource;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

/** The scan's row maxima are Math.max of |w| (as bits), and the first non-finite element is named. */
class InputScanTest {
    private static InputScan scan(TensorInput t, long rows) {
        try (ForkJoinPool pool = new ForkJoinPool(2)) {
            return pool.invoke(java.util.concurrent.ForkJoinTask.adapt(() -> InputScan.of(t, rows)));
        }
    }

    @Test
    void rowMaximaAreTheLargestMagnitudes() {
        int rows = 7;
        int cols = 10000;
        float[] w = new float[rows * cols];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-40, 30)));
        }
        // An all-zero row of signed zeros, and one of subnormals.
        for (int c = 0; c < cols; c++) {
            w[2 * cols + c] = c % 2 == 0 ? -0f : 0f;
            w[3 * cols + c] = -Float.MIN_VALUE * (c % 5);
        }
        float[] expected = new float[rows];
        float all = 0;
        for (int i = 0; i < w.length; i++) {
            expected[i / cols] = Math.max(expected[i / cols], Math.abs(w[i]));
            all = Math.max(all, Math.abs(w[i]));
        }
        InputScan s = scan(TensorInput.of("w", w, rows, cols), rows);
        assertArrayEquals(expected, s.rowMaxAbs());
        assertEquals(all, s.maxAbs());
        assertEquals(1f, s.channelScales()[2]);
        assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(s.rowMaxAbs()[2]));
    }

    @Test
    void theFirstNonFiniteValueOrBadSensitivityIsNamed() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] w = new float[4 * 9000];
            w[2 * 9000 + 17] = bad;
            w[3 * 9000 + 5] = bad;
            TensorDataException e = assertThrows(TensorDataException.class,
                    () -> scan(TensorInput.of("w", w, 4, 9000), 4));
            assertTrue(e.getMessage().contains("element " + (2 * 9000 + 17)), e.getMessage());
        }
        float[] s = new float[4 * 9000];
        s[9000 + 3] = -1f;
        s[9000 + 4] = -0f;
        TensorInput weighted = TensorInput.of("w", new float[s.length], 4, 9000).withSensitivities(new FloatArraySource(s));
        TensorDataException e = assertThrows(TensorDataException.class, () -> scan(weighted, 4));
        assertTrue(e.getMessage().contains("sensitivity -1.0 at element " + (9000 + 3)), e.getMessage());
    }
}
