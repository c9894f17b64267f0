package dev.palettizer.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The assignment table gives the search's index for every value it resolves, ties and signed zeros included. */
class NearestTableTest {
    @ParameterizedTest(name = "{0}-bit")
    @ValueSource(ints = {1, 2, 4, 8})
    void everyResolvedBucketAgreesWithTheSearch(int bits) {
        SplittableRandom r = new SplittableRandom(bits);
        int size = 1 << bits;
        float[] lut = new float[size];
        for (int i = 0; i < size; i++) {
            lut[i] = (float) (r.nextGaussian() * 0.05);
        }
        // A repeated entry (padding), a centroid at zero, and one whose midpoint falls on a bucket edge.
        Arrays.sort(lut);
        lut[size - 1] = lut[size - 2];
        lut[0] = Math.min(lut[0], -Float.intBitsToFloat(0x3c000000));
        float[] mids = JavaBackend.midpoints(lut, 0, size);
        short[] table = NearestTable.of(mids);
        int resolved = 0;
        for (int b = 0; b < 1 << 16; b++) {
            if (table[b] == NearestTable.AMBIGUOUS) {
                continue;
            }
            resolved++;
            for (int low : new int[] {0, 1, 0x7fff, 0x8000, 0xfffe, 0xffff, r.nextInt(1 << 16), r.nextInt(1 << 16)}) {
                float x = Float.intBitsToFloat(b << 16 | low);
                assertEquals(JavaBackend.nearest(mids, x), table[NearestTable.bucket(x)], "value " + x);
            }
        }
        assertTrue(resolved > 60000, resolved + " buckets resolved");
        for (float m : mids) {
            if (Float.isFinite(m)) {
                assertEquals(NearestTable.AMBIGUOUS, table[NearestTable.bucket(m)], "the bucket of midpoint " + m);
            }
        }
    }

    @Test
    void infinitiesAndNaNsTakeTheSearch() {
        short[] table = NearestTable.of(JavaBackend.midpoints(new float[] {-1, 0, 1, 2}, 0, 4));
        for (float x : new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN}) {
            assertEquals(NearestTable.AMBIGUOUS, table[NearestTable.bucket(x)]);
        }
    }

    @Test
    void unsortedOrNaNLutsHaveNoTable() {
        assertTrue(NearestTable.of(JavaBackend.midpoints(new float[] {2, 0, 1, 3}, 0, 4)) == null, "unsorted");
        assertTrue(NearestTable.of(JavaBackend.midpoints(new float[] {0, Float.NaN, 2, 3}, 0, 4)) == null, "NaN");
    }
}
