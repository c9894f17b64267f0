package dev.palettizer.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The radix sort gives exactly the order of Arrays.sort, signs, duplicates and skipped digits included. */
class LongRadixSortTest {
    @Test
    void matchesArraysSort() {
        SplittableRandom r = new SplittableRandom(3);
        for (int trial = 0; trial < 200; trial++) {
            int n = r.nextInt(0, 5000);
            long[] a = new long[n];
            int kind = trial % 4;
            for (int i = 0; i < n; i++) {
                a[i] = switch (kind) {
                    case 0 -> r.nextLong();
                    // Histogram entries: a sortable float key over the weight's bits, few distinct keys.
                    case 1 -> ((long) FloatOrder.sortable((float) (r.nextInt(-40, 40) * 1e-4)) << 32)
                            | (Float.floatToRawIntBits((float) r.nextDouble()) & 0xffffffffL);
                    // Every digit but one the same: all other passes are skipped.
                    case 2 -> 0x1234_5678_0000_0000L | (r.nextInt(256) << 8);
                    default -> r.nextBoolean() ? Long.MIN_VALUE + r.nextInt(3) : Long.MAX_VALUE - r.nextInt(3);
                };
            }
            long[] expected = a.clone();
            Arrays.sort(expected);
            LongRadixSort.sort(a, new long[n + trial % 3]);
            assertArrayEquals(expected, a, "trial " + trial);
        }
    }

    @Test
    void shortScratchIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> LongRadixSort.sort(new long[4], new long[3]));
    }
}
