package dev.palettizer.dkm;

/**
 * A weight's DKM state after its last forward pass, for report().
 *
 * @param step               forward passes done
 * @param route              "values" (uniquified, 16-bit keys) or "recompute"
 * @param iterations         iterations of the last forward, per partition
 * @param inertia            last iteration's inertia (sum of smallest modified squared distances), per partition
 * @param distinctCentroids  distinct centroids in the current LUT, per partition
 */
public record DkmStats(long step, String route, int[] iterations, double[] inertia, int[] distinctCentroids) {
    public DkmStats {
        iterations = iterations.clone();
        inertia = inertia.clone();
        distinctCentroids = distinctCentroids.clone();
    }
}
