package dev.palettizer.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DkmLayoutTest {

    @Test
    void partitionsEnumerateEveryElementOnceWithConsecutiveAxisComponents() {
        // [3, 12, 5] clustered along axis 1 in pairs, 4 channels per partition: 3 partitions.
        DkmLayout l = new DkmLayout(3 * 12 * 5, 5, 12, 2, 4);
        assertEquals(3, l.partitions());
        boolean[] seen = new boolean[180];
        for (int p = 0; p < l.partitions(); p++) {
            assertEquals(3 * 2 * 5, l.pointsIn(p));
            for (long j = 0; j < l.pointsIn(p); j++) {
                long q = l.pointOfPartition(p, j);
                for (int d = 0; d < 2; d++) {
                    long e = l.element(q, d);
                    assertFalse(seen[(int) e], "element " + e + " twice");
                    seen[(int) e] = true;
                    assertEquals(p, l.partitionOfElement(e));
                    long channel = (e / 5) % 12;
                    assertEquals(d, channel % 2, "component d sits at channel offset d");
                }
            }
        }
        for (boolean b : seen) {
            assertTrue(b);
        }
    }

    @Test
    void valueKeysAcceptOnlyExactValues() {
        assertEquals(-1, DkmPasses.ValueKeys.F16.key(0.1f));
        assertEquals(0x3c00, DkmPasses.ValueKeys.F16.key(1f));
        assertEquals(0x8000, DkmPasses.ValueKeys.F16.key(-0f));
        assertEquals(0x3f80, DkmPasses.ValueKeys.BF16.key(1f));
        assertEquals(-1, DkmPasses.ValueKeys.BF16.key(1.0001f));
        for (float v : List.of(1f, -2.5f, 65504f)) {
            assertEquals(v, DkmPasses.ValueKeys.F16.value(DkmPasses.ValueKeys.F16.key(v)));
        }
    }

    @Test
    void countingStopsOnTheFirstValueWithoutAKey() {
        try (JavaDkmPasses passes = new JavaDkmPasses(2)) {
            float[] w = new float[10_000];
            for (int i = 0; i < w.length; i++) {
                w[i] = (i % 7) * 0.25f;
            }
            DkmLayout l = new DkmLayout(w.length, 1, w.length, 1, w.length);
            double[] counts = new double[65536];
            assertTrue(passes.countValues(DkmData.of(w), l, DkmPasses.ValueKeys.F16, counts));
            assertEquals(1429, counts[DkmPasses.ValueKeys.F16.key(0f)]);
            w[9_999] = 0.1f;
            assertFalse(passes.countValues(DkmData.of(w), l, DkmPasses.ValueKeys.F16, counts));
            assertEquals(9_999, passes.firstNonFinite(DkmData.of(withNaN(w, 9_999))));
        }
    }

    private static float[] withNaN(float[] w, int i) {
        float[] c = w.clone();
        c[i] = Float.NaN;
        return c;
    }
}
