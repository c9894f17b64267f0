package dev.palettizer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.palettizer.model.FloatArraySource;
import org.junit.jupiter.api.Test;

class SensitivitiesTest {
    @Test
    void normalisesToUnitMaximumAndReplacesZerosWithTheSmallestNonZero() {
        float[] raw = {0f, 2f, 8f, 0f, 4f};
        assertArrayEquals(new float[] {0.25f, 0.25f, 1f, 0.25f, 0.5f}, Sensitivities.normalize(raw));
        assertArrayEquals(new float[] {0f, 2f, 8f, 0f, 4f}, raw, "input not modified");
    }

    @Test
    void allZeroBecomesAllOnesAndTinyValuesAreClipped() {
        assertArrayEquals(new float[] {1f, 1f}, Sensitivities.normalize(new float[2]));
        float[] out = Sensitivities.normalize(new float[] {1f, 1e-20f});
        assertArrayEquals(new float[] {1f, Sensitivities.CLIP}, out);
    }

    @Test
    void streamingViewMatchesTheArrayFunction() {
        float[] raw = Oracle.uniform(10_000, 3);
        raw[17] = 0;
        float[] viewed = new float[raw.length];
        Sensitivities.normalized(new FloatArraySource(raw)).read(0, viewed, 0, raw.length);
        assertArrayEquals(Sensitivities.normalize(raw), viewed);
    }

    @Test
    void negativeOrNanValuesAreErrors() {
        assertThrows(TensorDataException.class, () -> Sensitivities.normalize(new float[] {1f, -1f}));
        assertThrows(TensorDataException.class, () -> Sensitivities.normalize(new float[] {Float.NaN}));
    }

    /** A saved sensitivity file is normalised already; loading it normalises again without changing a bit. */
    @Test
    void normalisingNormalisedValuesKeepsEveryBit() {
        float[] raw = Oracle.uniform(10_000, 5);
        for (int i = 0; i < raw.length; i++) {
            raw[i] = raw[i] * raw[i] * 3.7e-3f;
        }
        raw[3] = 0;
        float[] once = Sensitivities.normalize(raw);
        assertArrayEquals(once, Sensitivities.normalize(once));
        float[] viewed = new float[once.length];
        Sensitivities.normalized(new FloatArraySource(once)).read(0, viewed, 0, viewed.length);
        assertArrayEquals(once, viewed);
    }
}
