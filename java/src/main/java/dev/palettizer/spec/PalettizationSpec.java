package dev.palettizer.spec;

import java.util.Objects;
import java.util.Set;

/**
 * What to do to one tensor: {@code 2^nBits} centroids of {@code clusterDim} values each, per tensor
 * or per group of channels, optionally on per-output-channel normalised weights and with a
 * quantized LUT. Defaults: 4 bits, per tensor, scalar centroids, no scale, float LUT, no outliers.
 *
 * @param outlierFraction share of the tensor's elements kept out of the clustering and stored
 *     exactly (dense-and-sparse); 0 for none, otherwise in (0, {@link #MAX_OUTLIER_FRACTION})
 */
public record PalettizationSpec(
        int nBits,
        LutQuantSpec lutQuant,
        Granularity granularity,
        int clusterDim,
        boolean perChannelScale,
        double outlierFraction) {

    public static final Set<Integer> ALLOWED_BITS = Set.of(1, 2, 3, 4, 6, 8);
    /** Exclusive upper bound of {@link #outlierFraction}: past 10 % the sparse list costs more than it saves. */
    public static final double MAX_OUTLIER_FRACTION = 0.1;

    public PalettizationSpec {
        if (!ALLOWED_BITS.contains(nBits)) {
            throw new SpecException("n_bits must be one of {1, 2, 3, 4, 6, 8}, got " + nBits);
        }
        granularity = Objects.requireNonNullElseGet(granularity, Granularity::perTensor);
        if (clusterDim < 1) {
            throw new SpecException("cluster_dim must be >= 1, got " + clusterDim);
        }
        if (outlierFraction != 0 && !(outlierFraction > 0 && outlierFraction < MAX_OUTLIER_FRACTION)) {
            throw new SpecException("outlier_fraction must be in (0, 0.1) (a share of the elements, e.g. 0.005 for"
                    + " 0.5 %), or 0 for none; got " + outlierFraction);
        }
    }

    /** A spec without outliers. */
    public PalettizationSpec(int nBits, LutQuantSpec lutQuant, Granularity granularity, int clusterDim,
            boolean perChannelScale) {
        this(nBits, lutQuant, granularity, clusterDim, perChannelScale, 0);
    }

    public static PalettizationSpec defaults() {
        return new PalettizationSpec(4, null, Granularity.perTensor(), 1, false);
    }

    public int lutSize() {
        return 1 << nBits;
    }

    public PalettizationSpec withBits(int bits) {
        return new PalettizationSpec(bits, lutQuant, granularity, clusterDim, perChannelScale, outlierFraction);
    }

    public PalettizationSpec withGranularity(Granularity g) {
        return new PalettizationSpec(nBits, lutQuant, g, clusterDim, perChannelScale, outlierFraction);
    }

    public PalettizationSpec withClusterDim(int dim) {
        return new PalettizationSpec(nBits, lutQuant, granularity, dim, perChannelScale, outlierFraction);
    }

    public PalettizationSpec withPerChannelScale(boolean on) {
        return new PalettizationSpec(nBits, lutQuant, granularity, clusterDim, on, outlierFraction);
    }

    public PalettizationSpec withLutQuant(LutQuantSpec q) {
        return new PalettizationSpec(nBits, q, granularity, clusterDim, perChannelScale, outlierFraction);
    }

    public PalettizationSpec withOutlierFraction(double fraction) {
        return new PalettizationSpec(nBits, lutQuant, granularity, clusterDim, perChannelScale, fraction);
    }

    /**
     * Elements of a tensor of {@code elements} kept exactly: {@code round(fraction * elements)}, at
     * least one when the fraction is above zero (never more than the tensor holds).
     */
    public long outlierCount(long elements) {
        if (outlierFraction == 0) {
            return 0;
        }
        return Math.min(elements, Math.max(1, Math.round(outlierFraction * elements)));
    }
}
