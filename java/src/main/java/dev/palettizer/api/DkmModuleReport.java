package dev.palettizer.api;

import java.util.List;

/**
 * One weight in {@link DKMPalettizer#report()} (the seed's per-module statistics).
 *
 * @param name              the weight
 * @param palettized        whether DKM works on it (false: left alone, see {@code rule})
 * @param rule              the config rule that decided
 * @param nBits             2^nBits centroids (0 when left alone)
 * @param clusters          centroids per LUT, the extra centroid included
 * @param clusterDim        values per centroid
 * @param parameters        elements of the weight
 * @param partitions        LUTs (one per partition of channels)
 * @param milestone         the step at which palettization starts
 * @param active            whether forward palettizes now (steps >= milestone)
 * @param route             "values" (uniquified fp16/bf16 values), "recompute", or "" before the first palettized forward
 * @param iterations        k-means iterations of the last forward, per partition
 * @param distinctCentroids distinct centroids of the current LUT, per partition
 */
public record DkmModuleReport(String name, boolean palettized, String rule, int nBits, int clusters, int clusterDim,
                              long parameters, int partitions, int milestone, boolean active, String route,
                              List<Integer> iterations, List<Integer> distinctCentroids) {
    public DkmModuleReport {
        iterations = List.copyOf(iterations);
        distinctCentroids = List.copyOf(distinctCentroids);
    }
}
