package dev.palettizer.budget;

import dev.palettizer.backend.PackedIndices;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The specs a budget chooses among for one tensor: its rule's spec (LUT quantization, cluster_dim,
 * per-channel scale kept) with every allowed bit width and each of {@link #GRANULARITIES}, where it
 * fits the shape. Candidates that store more than the tensor's 8-bit per-tensor spec are left out: they
 * cost more than the near-lossless choice (the README's MiniLM rows: 0.9998 cosine), and per-channel
 * 6- and 8-bit LUTs would dominate the time spent on the curves.
 */
public final class Candidates {
    public static final List<Integer> BITS = List.of(1, 2, 3, 4, 6, 8);
    /** Per tensor, per 32 output channels, per output channel (axis 0 in the engine's orientation). */
    public static final List<Granularity> GRANULARITIES =
            List.of(Granularity.perTensor(), Granularity.grouped(0, 32), Granularity.perChannel(0));

    private Candidates() {}

    /**
     * A rule that allows a ragged last group (allow_ragged_last_group, --ragged-last-group) keeps that option in
     * its grouped candidates, so groups of 32 reach tensors whose rows 32 does not divide.
     */
    public static List<PalettizationSpec> of(PalettizationSpec rule, long[] shape) {
        PalettizationSpec widest = rule.withBits(8).withGranularity(Granularity.perTensor());
        long cap = storedBytes(widest, shape).orElse(Long.MAX_VALUE);
        boolean ragged = rule.granularity() instanceof Granularity.PerGroupedChannel g && g.raggedLast();
        List<PalettizationSpec> out = new ArrayList<>();
        for (Granularity listed : GRANULARITIES) {
            Granularity g = ragged && listed instanceof Granularity.PerGroupedChannel p && p.groupSize() > 1
                    ? Granularity.groupedRagged(p.groupSize()) : listed;
            for (int bits : BITS) {
                PalettizationSpec spec = rule.withBits(bits).withGranularity(g);
                Optional<Long> bytes = storedBytes(spec, shape);
                if (bytes.isPresent() && bytes.get() <= cap) {
                    out.add(spec);
                }
            }
        }
        return out;
    }

    /**
     * What {@code PalettizedTensor.compressedBytes()} will say for {@code spec} on {@code shape}: LUTs
     * (float, or 8-bit codes plus scale and zero point), packed indices and channel scales; empty when the
     * spec does not fit the shape.
     */
    public static Optional<Long> storedBytes(PalettizationSpec spec, long[] shape) {
        return GroupLayout.of(shape, spec).layout().map(layout -> {
            long lutValues = (long) layout.groups() * spec.lutSize() * layout.clusterDim();
            long lut = spec.lutQuant() != null ? lutValues + 8 : 4 * lutValues;
            long scales = spec.perChannelScale() ? 4 * layout.rows() : 0;
            return lut + PackedIndices.bytes(layout.vectorCount(), spec.nBits()) + scales;
        });
    }
}
