package dev.palettizer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import org.junit.jupiter.api.Test;

/** Ragged layouts: every method on the last group, their parts, and what stays refused. */
class GroupLayoutTest {
    private static PalettizationSpec ragged(int groupSize, int clusterDim) {
        return PalettizationSpec.defaults().withGranularity(Granularity.groupedRagged(groupSize)).withClusterDim(clusterDim);
    }

    private static GroupLayout layout(long[] shape, PalettizationSpec spec) {
        return GroupLayout.of(shape, spec).layout().orElseThrow();
    }

    @Test
    void withoutTheOptInAGroupSizeNotDividingTheRowsIsStillSkipped() {
        GroupLayout.Result r = GroupLayout.of(new long[] {30522, 384},
                PalettizationSpec.defaults().withGranularity(Granularity.grouped(0, 32)));
        assertTrue(r.layout().isEmpty());
        assertEquals("group_size 32 does not divide the 30522 channels along axis 0 of shape [30522, 384]", r.skipReason());
    }

    @Test
    void theLastGroupOfTheMiniLmEmbeddingHoldsTheRemainingRows() {
        GroupLayout l = layout(new long[] {30522, 384}, ragged(32, 1));
        assertTrue(l.ragged());
        assertEquals(954, l.groups(), "ceil(30522 / 32)");
        assertEquals(953L * 32 * 384, l.groupStart(953));
        assertEquals(953, l.groupOf(30521, 383));
        assertEquals(953, l.groupOf(30496, 0));
        assertEquals(952, l.groupOf(30495, 383));
        assertEquals(32L * 384, l.vectorsInGroup(0));
        assertEquals(32L * 384, l.vectorsInGroup(952));
        assertEquals(26L * 384, l.vectorsInGroup(953), "30522 - 953 * 32 = 26 rows");
        assertThrows(IndexOutOfBoundsException.class, () -> l.vectorsInGroup(954));
        long sum = 0;
        for (int g = 0; g < l.groups(); g++) {
            sum += l.vectorsInGroup(g);
        }
        assertEquals(l.vectorCount(), sum);
        assertEquals(30496, l.prefixRows());
        assertEquals(30522L * 384, l.position(30521L * 384 + 383) + 1, "scalars: positions in element order");
    }

    @Test
    void itsPartsArePlainLayoutsOverContiguousRows() {
        GroupLayout l = layout(new long[] {50, 6}, ragged(16, 1));
        GroupLayout prefix = l.prefix().orElseThrow();
        GroupLayout tail = l.tail();
        assertEquals(new GroupLayout(48, 6, 1, 1, 0, 16), prefix);
        assertFalse(prefix.ragged());
        assertEquals(3, prefix.groups());
        assertEquals(16L * 6, prefix.vectorsPerGroup());
        assertEquals(new GroupLayout(2, 6, 1, 1, -1, 1), tail);
        assertEquals(1, tail.groups());
        assertEquals(12, tail.vectorsPerGroup());
        assertEquals(l.groups(), prefix.groups() + tail.groups());
        assertEquals(l.vectorCount(), prefix.vectorCount() + tail.vectorCount());
    }

    @Test
    void fewerRowsThanTheGroupSizeMakeOneRaggedGroupWithNoPrefix() {
        GroupLayout l = layout(new long[] {20, 8}, ragged(32, 1));
        assertTrue(l.ragged());
        assertEquals(1, l.groups());
        assertEquals(0, l.prefixRows());
        assertTrue(l.prefix().isEmpty());
        assertEquals(160, l.vectorsInGroup(0));
        assertEquals(new GroupLayout(20, 8, 1, 1, -1, 1), l.tail());
    }

    @Test
    void vectorsKeepWholeVectorsInTheLastGroup() {
        // 50 rows, groups of 16, cluster_dim 2: the last group has 2 rows, one row block of 6 vectors.
        GroupLayout l = layout(new long[] {50, 6}, ragged(16, 2));
        assertEquals(4, l.groups());
        assertEquals(6, l.vectorsInGroup(3));
        assertEquals(8L * 6, l.vectorsInGroup(0));
        assertEquals(new GroupLayout(2, 6, 1, 2, -1, 1), l.tail());
        assertEquals(1, l.tail().runCount());
        assertEquals(6, l.tail().runLength());
        assertEquals(48L / 2 * 6, l.position(48L * 6), "the tail starts right after the prefix's positions");
        // cluster_dim must still divide the rows and the group size, ragged or not.
        assertTrue(GroupLayout.of(new long[] {51, 6}, ragged(16, 2)).skipReason().contains("cluster_dim 2"));
        assertTrue(GroupLayout.of(new long[] {50, 6}, ragged(16, 5)).skipReason().contains("cluster_dim 5 does not divide group_size 16"));
    }

    @Test
    void perGroupFiguresRefuseARaggedLayout() {
        GroupLayout l = layout(new long[] {50, 6}, ragged(16, 1));
        for (Runnable call : new Runnable[] {l::runLength, l::runCount, l::vectorsPerGroup}) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call::run);
            assertTrue(e.getMessage().contains("vectorsInGroup"), e.getMessage());
        }
    }

    @Test
    void aDivisibleShapeIsAPlainLayoutWithTheOptIn() {
        GroupLayout l = layout(new long[] {64, 6}, ragged(16, 1));
        assertFalse(l.ragged());
        assertEquals(layout(new long[] {64, 6}, PalettizationSpec.defaults().withGranularity(Granularity.grouped(0, 16))), l);
        assertThrows(IllegalStateException.class, l::tail);
        assertEquals(16L * 6, l.vectorsInGroup(3));
    }

    @Test
    void raggedGroupsAlongTheInputChannelsAreNotSupported() {
        SpecException e = assertThrows(SpecException.class, () -> new Granularity.PerGroupedChannel(1, 32, true));
        assertTrue(e.getMessage().contains("not supported along axis 1"), e.getMessage());
    }
}
