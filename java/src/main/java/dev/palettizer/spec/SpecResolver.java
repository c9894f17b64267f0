package dev.palettizer.spec;

import dev.palettizer.model.WeightSite;

/**
 * Chooses, per weight of a model, how to palettize it or whether to leave it alone. The
 * configuration hierarchy (seed 001) is one resolver; a single spec for every weight is another.
 */
@FunctionalInterface
public interface SpecResolver {

    WeightDecision resolve(WeightSite site);

    /** The same spec and clustering mode for every weight. */
    static SpecResolver uniform(PalettizationSpec spec, boolean fastMode, int roundingPrecision) {
        WeightDecision decision = WeightDecision.palettize(spec, fastMode, roundingPrecision, "one spec for all weights");
        return site -> decision;
    }
}
