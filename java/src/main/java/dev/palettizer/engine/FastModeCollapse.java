package dev.palettizer.engine;

import dev.palettizer.backend.ClusterInput;
import dev.palettizer.backend.WeightedValues;

/**
 * When fast mode's rounding ruins a tensor, and what the report says then. Fast mode clusters the
 * values rounded to {@code rounding_precision} decimals (the seed's semantics): harmless while the
 * weights spread over many rounding steps, but a tensor whose values are all within a few steps of
 * zero (standard deviation 1e-4 or 1e-5 at 4 decimals) rounds to a handful of keys, and its LUT
 * becomes those keys (an all-zero tensor at worst).
 *
 * <p>The rule: a group collapses when its rounded keys are no more than the LUT's entries while its
 * exact values are more (were they fewer, the group keeps its exact values anyway). One collapsed
 * group sends the whole tensor back to exact keys, so that a tensor is clustered one way only.
 */
final class FastModeCollapse {
    private FastModeCollapse() {}

    /** Whether any of the groups {@code from..from+hist.length-1}, histogrammed on fast keys, collapsed. */
    static boolean collapsed(ClusterInput in, WeightedValues[] hist, int from, int lutSize) {
        for (int i = 0; i < hist.length; i++) {
            // An empty histogram (every element weightless, e.g. all outliers) is empty on exact keys too.
            if (hist[i].size() > 0 && hist[i].size() <= lutSize
                    && GroupScan.distinctAtMost(in, from + i, lutSize) == null) {
                return true;
            }
        }
        return false;
    }

    /** The report's and stderr's note for a tensor that fell back. */
    static String note(ClusterMode mode) {
        return "fast mode fell back to exact values: rounding to " + mode.roundingPrecision()
                + " decimals left no more distinct values than LUT entries (small-magnitude weights);"
                + " --no-fast or a higher --rounding-precision avoids the extra pass";
    }
}
