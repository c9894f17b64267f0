package dev.palettizer.spec;

import java.util.Objects;

/**
 * What to do with one weight: palettize it with a spec and clustering mode, or leave it as it is.
 *
 * @param spec the spec, or null to leave the weight unchanged
 * @param fastMode round to fp16 and {@code roundingPrecision} decimals before clustering (seed 001's
 *     {@code enable_fast_kmeans_mode}); ignored when spec is null
 * @param roundingPrecision decimals kept in fast mode (seed 001's {@code rounding_precision}, >= 1)
 * @param reason why: the rule that decided, for reports and logs
 */
public record WeightDecision(PalettizationSpec spec, boolean fastMode, int roundingPrecision, String reason) {
    public WeightDecision {
        Objects.requireNonNull(reason, "reason");
        if (roundingPrecision < 1) {
            throw new SpecException("rounding_precision must be a positive integer, got " + roundingPrecision);
        }
    }

    public static WeightDecision palettize(PalettizationSpec spec, boolean fastMode, int roundingPrecision,
                                           String reason) {
        return new WeightDecision(Objects.requireNonNull(spec, "spec"), fastMode, roundingPrecision, reason);
    }

    public static WeightDecision leave(String reason) {
        return new WeightDecision(null, false, 4, reason);
    }

    public boolean palettized() {
        return spec != null;
    }
}
