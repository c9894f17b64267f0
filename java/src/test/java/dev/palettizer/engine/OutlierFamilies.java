package dev.palettizer.engine;

import dev.palettizer.model.DType;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.util.List;

/**
 * Dense-and-sparse cases for the backend equivalence tests: the backends receive sensitivities masked
 * at the outliers (unit weights elsewhere when the tensor has none), a path the plain families never
 * take unweighted.
 */
public final class OutlierFamilies {
    private OutlierFamilies() {}

    public static List<Equivalence.Family> families() {
        EngineOptions fast = EngineOptions.defaults();
        EngineOptions exact = fast.withFastMode(false);
        EngineOptions lloyd = exact.withAlgorithm(Algorithm.KMEANS_PLUS_PLUS);
        PalettizationSpec o = PalettizationSpec.defaults().withOutlierFraction(0.005);
        long[] large = {203, 211};
        long[] rows96 = {96, 77};
        return List.of(
                new Equivalence.Family("outliers, per tensor, f32, fast", DType.F32, large, o, fast, false),
                new Equivalence.Family("outliers, per tensor, f32, fast, weighted", DType.F32, large, o.withBits(3), fast,
                        true),
                new Equivalence.Family("outliers, per tensor, bf16, no-fast", DType.BF16, large, o, exact, false),
                new Equivalence.Family("outliers, per tensor, f32, no-fast (host histogram)", DType.F32, large, o, exact,
                        false),
                new Equivalence.Family("outliers, axis 0 group 32, scaled, fast", DType.F32, rows96,
                        o.withGranularity(Granularity.grouped(0, 32)).withPerChannelScale(true), fast, false),
                new Equivalence.Family("outliers, axis 1 group 1, f16, no-fast, weighted", DType.F16, new long[] {77, 96},
                        o.withBits(2).withGranularity(Granularity.perChannel(1)), exact, true),
                new Equivalence.Family("outliers, cluster_dim 2, k-means++/Lloyd", DType.F32, new long[] {128, 93},
                        o.withClusterDim(2), lloyd, false));
    }
}
