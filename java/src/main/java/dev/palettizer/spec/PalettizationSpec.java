package dev.palettizer.spec;

import java.util.Objects;
import java.util.Set;

/**
 * What to do to one tensor: {@code 2^nBits} centroids of {@code clusterDim} values each, per tensor
 * or per group of channels, optionally on per-output-channel normalised weights and with a
 * quantized LUT. Defaults: 4 bits, per tensor, scalar centroids, no scale, float LUT.
 */
public record PalettizationSpec(
        int nBits,
        LutQuantSpec lutQuant,
        Granularity granularity,
        int clusterDim,
        boolean perChannelScale) {

    public static final Set<Integer> ALLOWED_BITS = Set.of(1, 2, 3, 4, 6, 8);

    public PalettizationSpec {
        if (!ALLOWED_BITS.contains(nBits)) {
            throw new SpecException("n_bits must be one of {1, 2, 3, 4, 6, 8}, got " + nBits);
        }
        granularity = Objects.requireNonNullElseGet(granularity, Granularity::perTensor);
        if (clusterDim < 1) {
            throw new SpecException("cluster_dim must be >= 1, got " + clusterDim);
        }
    }

    public static PalettizationSpec defaults() {
        return new PalettizationSpec(4, null, Granularity.perTensor(), 1, false);
    }

    public int lutSize() {
        return 1 << nBits;
    }

    public PalettizationSpec withBits(int bits) {
        return new PalettizationSpec(bits, lutQuant, granularity, clusterDim, perChannelScale);
    }

    public PalettizationSpec withGranularity(Granularity g) {
        return new PalettizationSpec(nBits, lutQuant, g, clusterDim, perChannelScale);
    }

    public PalettizationSpec withClusterDim(int dim) {
        return new PalettizationSpec(nBits, lutQuant, granularity, dim, perChannelScale);
    }

    public PalettizationSpec withPerChannelScale(boolean on) {
        return new PalettizationSpec(nBits, lutQuant, granularity, clusterDim, on);
    }

    public PalettizationSpec withLutQuant(LutQuantSpec q) {
        return new PalettizationSpec(nBits, q, granularity, clusterDim, perChannelScale);
    }
}
