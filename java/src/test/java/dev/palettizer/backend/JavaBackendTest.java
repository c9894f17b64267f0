package dev.palettizer.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.palettizer.model.GroupLayout;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

/** The Java backend's packing and reconstruction against element-by-element oracles. */
class JavaBackendTest {
    @Test
    void packPutsIndexIAtBitsITimesNLsbFirst() {
        SplittableRandom r = new SplittableRandom(3);
        try (ForkJoinPool pool = new ForkJoinPool(2)) {
            JavaBackend backend = new JavaBackend(pool);
            for (int bits : PalettizationSpec.ALLOWED_BITS) {
                // Across a slice boundary, with a partial last byte group.
                for (int count : new int[] {1, 7, 8, 9, 63, (int) JavaBackend.SLICE + 13}) {
                    byte[] indices = new byte[count];
                    for (int i = 0; i < count; i++) {
                        indices[i] = (byte) r.nextInt(1 << bits);
                    }
                    byte[] expected = new byte[(int) PackedIndices.bytes(count, bits)];
                    for (long bit = 0; bit < (long) count * bits; bit++) {
                        int value = indices[(int) (bit / bits)] >> (bit % bits) & 1;
                        expected[(int) (bit / 8)] |= (byte) (value << (bit % 8));
                    }
                    assertArrayEquals(expected, backend.pack(indices, count, bits), bits + " bits, " + count);
                }
            }
        }
    }

    @Test
    void reconstructReadsEachElementsGroupEntryAndScale() {
        SplittableRandom r = new SplittableRandom(5);
        long[] shape = {12, 6, 4};
        PalettizationSpec[] specs = {
            PalettizationSpec.defaults().withBits(2),
            PalettizationSpec.defaults().withBits(3).withGranularity(Granularity.grouped(0, 4)),
            PalettizationSpec.defaults().withGranularity(Granularity.grouped(1, 2)),
            PalettizationSpec.defaults().withBits(2).withClusterDim(2).withGranularity(Granularity.grouped(0, 6)),
            PalettizationSpec.defaults().withBits(2).withClusterDim(3).withGranularity(Granularity.grouped(1, 3)),
        };
        try (ForkJoinPool pool = new ForkJoinPool(2)) {
            JavaBackend backend = new JavaBackend(pool);
            for (PalettizationSpec spec : specs) {
                GroupLayout l = GroupLayout.of(shape, spec).layout().orElseThrow();
                int cd = l.clusterDim();
                float[] lut = new float[l.groups() * spec.lutSize() * cd];
                for (int i = 0; i < lut.length; i++) {
                    lut[i] = (float) r.nextGaussian();
                }
                byte[] indices = new byte[(int) l.vectorCount()];
                for (int i = 0; i < indices.length; i++) {
                    indices[i] = (byte) r.nextInt(spec.lutSize());
                }
                float[] channelScales = new float[(int) l.rows()];
                for (int i = 0; i < channelScales.length; i++) {
                    channelScales[i] = (float) r.nextDouble(0.5, 2);
                }
                for (float[] scales : new float[][] {null, channelScales}) {
                    float[] expected = new float[(int) l.elementCount()];
                    for (int e = 0; e < expected.length; e++) {
                        long row = e / l.rowStride();
                        long o = e % l.rowStride();
                        int idx = indices[(int) (row / cd * l.rowStride() + o)];
                        float scale = scales == null ? 1f : scales[(int) row];
                        expected[e] = lut[(l.groupOf(row - row % cd, o) * spec.lutSize() + idx) * cd + (int) (row % cd)] * scale;
                    }
                    assertArrayEquals(expected, backend.reconstruct(l, lut, spec.lutSize(), indices, scales), spec.toString());
                    // Into a reused buffer: every element overwritten.
                    float[] reused = new float[expected.length];
                    Arrays.fill(reused, Float.NaN);
                    backend.reconstruct(l, lut, spec.lutSize(), indices, scales, reused);
                    assertArrayEquals(expected, reused, spec + " into a buffer");
                }
            }
        }
    }
}
