package dev.palettizer.spec;

import java.util.List;
import java.util.Objects;

/**
 * What differentiable k-means (seed 004) does to one weight, every field resolved: the numeric part
 * of {@code ModuleDKMPalettizerConfig}. Selection and lifecycle fields ({@code weight_threshold},
 * {@code milestone}, activation quantization, {@code palett_max_mem}) stay in the config; the DKM
 * engine sees only this.
 *
 * @param nBits            2^nBits centroids (1..8)
 * @param clusterDim       values per centroid (>= 1)
 * @param maxIter          differentiable k-means iterations per forward pass (>= 1)
 * @param tau              softmax temperature (> 0)
 * @param epsilon          stop iterating once the inertia changes by at most this between iterations (>= 0)
 * @param lambda           outlier damping (>= 0); the engine refuses > 0: coremltools reads it but applies no formula
 * @param mode             attention: dkm, gsm or hard
 * @param clusterDType     the LUT's fake-quantization type in the forward pass (F32 = none)
 * @param quantMin         smallest integer code of an I8/U8 LUT
 * @param quantMax         largest integer code of an I8/U8 LUT
 * @param enforceZero      the centroid nearest 0 is pinned to 0
 * @param pruneThreshold   subtracted from every squared distance to the zero centroid, as coremltools does (>= 0)
 * @param addExtraCentroid one centroid more than 2^nBits
 * @param clusterTol       tolerance for non-unique centroids (>= 0)
 * @param init             first centroids' algorithm
 * @param opt1dThreshold   channel threshold below which the optimal 1-D k-means initialises scalars (>= 0)
 * @param partitionSize    channels per partition, each with its own LUT (>= 1)
 * @param clusterPermute   permutation of the weight's dimensions before clustering (empty = none)
 * @param seed             seeds k-means++ and Gumbel noise
 */
public record DkmSpec(
        int nBits,
        int clusterDim,
        int maxIter,
        double tau,
        double epsilon,
        double lambda,
        DkmMode mode,
        ClusterDType clusterDType,
        int quantMin,
        int quantMax,
        boolean enforceZero,
        double pruneThreshold,
        boolean addExtraCentroid,
        double clusterTol,
        KMeansInit init,
        int opt1dThreshold,
        long partitionSize,
        List<Integer> clusterPermute,
        long seed) {

    public DkmSpec {
        if (nBits < 1 || nBits > 8) {
            throw new SpecException("n_bits must be in 1..8, got " + nBits);
        }
        if (clusterDim < 1) {
            throw new SpecException("cluster_dim must be >= 1, got " + clusterDim);
        }
        if (maxIter < 1) {
            throw new SpecException("kmeans_max_iter must be >= 1, got " + maxIter);
        }
        if (!(tau > 0) || Double.isInfinite(tau)) {
            throw new SpecException("palett_tau must be a finite number > 0, got " + tau);
        }
        requireNonNegative("palett_epsilon", epsilon);
        requireNonNegative("palett_lambda", lambda);
        requireNonNegative("prune_threshold", pruneThreshold);
        requireNonNegative("palett_cluster_tol", clusterTol);
        mode = Objects.requireNonNull(mode, "palett_mode");
        clusterDType = Objects.requireNonNull(clusterDType, "cluster_dtype");
        init = Objects.requireNonNull(init, "kmeans_init");
        if (quantMin >= quantMax) {
            throw new SpecException("quant_min must be < quant_max, got " + quantMin + " and " + quantMax);
        }
        if (clusterDType == ClusterDType.I8 && (quantMin < -128 || quantMax > 127)) {
            throw new SpecException("cluster_dtype i8 needs -128 <= quant_min < quant_max <= 127, got " + quantMin + ".." + quantMax);
        }
        if (clusterDType == ClusterDType.U8 && (quantMin < 0 || quantMax > 255)) {
            throw new SpecException("cluster_dtype u8 needs 0 <= quant_min < quant_max <= 255, got " + quantMin + ".." + quantMax
                    + " (set quant_min: 0 and quant_max: 255)");
        }
        if (opt1dThreshold < 0) {
            throw new SpecException("kmeans_opt1d_threshold must be >= 0, got " + opt1dThreshold);
        }
        if (partitionSize < 1) {
            throw new SpecException("partition_size must be >= 1, got " + partitionSize);
        }
        clusterPermute = List.copyOf(Objects.requireNonNullElse(clusterPermute, List.of()));
        boolean[] seen = new boolean[clusterPermute.size()];
        for (int d : clusterPermute) {
            if (d < 0 || d >= seen.length || seen[d]) {
                throw new SpecException("cluster_permute must be a permutation of 0.." + (seen.length - 1) + ", got " + clusterPermute);
            }
            seen[d] = true;
        }
    }

    /** Seed 004's defaults for the given bit count (4 for linear layers, 2 for others: the config decides). */
    public static DkmSpec defaults(int nBits) {
        return new DkmSpec(nBits, 1, 3, 1e-4, 1e-4, 0.0, DkmMode.DKM, ClusterDType.F32, -128, 127, false, 0.0,
                false, 0.05, KMeansInit.CPU_KMEANS_PP, 1024, 2_000_000_000L, List.of(), 0L);
    }

    /** Centroids per LUT: 2^nBits, plus one with {@code addExtraCentroid}. */
    public int lutSize() {
        return (1 << nBits) + (addExtraCentroid ? 1 : 0);
    }

    private static void requireNonNegative(String name, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new SpecException(name + " must be a finite number >= 0, got " + v);
        }
    }
}
