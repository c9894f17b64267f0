package dev.palettizer.config.dkm;

import dev.palettizer.spec.ClusterDType;
import dev.palettizer.spec.DkmMode;
import dev.palettizer.spec.DkmSpec;
import dev.palettizer.spec.KMeansInit;
import dev.palettizer.spec.SpecException;
import java.util.List;
import java.util.Objects;

/**
 * How differentiable k-means palettizes the weights of one module (seed 004's
 * {@code ModuleDKMPalettizerConfig}): every parameter of the seed, with its default, validated when
 * built. Build one with {@link #builder()} (or {@link #toBuilder()} to change some fields of another);
 * the YAML/JSON keys are the seed's parameter names, given next to each field below.
 *
 * <p>Nothing is ignored silently: {@code quantize_activations: true} and a {@code dtype} other than
 * qint8 are refused (activation quantization belongs to the trainer's graph, not to DKMPalettizer), and
 * so are {@code quant_min}/{@code quant_max} other than -128/127 unless {@code cluster_dtype} is an
 * integer type, the only thing they then apply to. Validation messages start with the parameter's
 * name, e.g. {@code palett_tau: must be a finite number > 0, got 0.0}; the file readers put the path
 * of the module config in the document before it.
 *
 * @param nBits                {@code n_bits}: 2^n centroids, 1..8; null picks per weight: 4 for Linear modules, 2 for others
 * @param weightThreshold      {@code weight_threshold} (2048): a weight is palettized only when its element count exceeds it; >= 0
 * @param milestone            {@code milestone} (0): the step at which palettization begins; >= 0
 * @param clusterDim           {@code cluster_dim} (1): values per centroid; >= 1
 * @param quantMin             {@code quant_min} (-128): smallest integer code of an i8/u8 LUT
 * @param quantMax             {@code quant_max} (127): largest integer code of an i8/u8 LUT
 * @param dtype                {@code dtype} (qint8): the activation dtype; only qint8 (activations are not quantized)
 * @param clusterDType         {@code cluster_dtype} (f32): the LUT's fake-quantization type; i8, u8, f16, bf16, f32 (none)
 * @param quantizeActivations  {@code quantize_activations} (false): only false
 * @param partitionSize        {@code partition_size} (2000000000): channels per partition, each with its own LUT; >= 1
 * @param clusterPermute       {@code cluster_permute} (null): permutation of the weight's dimensions before clustering;
 *                             null for none (an empty list is read as null)
 * @param palettMaxMem         {@code palett_max_mem} (1.0): fraction of the accelerator's free memory DKM may use, in (0, 1]
 * @param kmeansMaxIter        {@code kmeans_max_iter} (3): differentiable k-means iterations per forward pass; >= 1
 * @param pruneThreshold       {@code prune_threshold} (0.0): weights in [-t, t] are hard-shrunk to 0; >= 0
 * @param kmeansInit           {@code kmeans_init} (cpu.kmeans++): cpu.kmeans++, kmeans_pp or efficient_kmeans
 * @param kmeansOpt1dThreshold {@code kmeans_opt1d_threshold} (1024): channel threshold for the optimal 1-D k-means; >= 0
 * @param enforceZero          {@code enforce_zero} (false): pin the centroid nearest 0 to 0
 * @param palettMode           {@code palett_mode} (dkm): dkm, gsm or hard
 * @param palettTau            {@code palett_tau} (1e-4): softmax temperature; > 0
 * @param palettEpsilon        {@code palett_epsilon} (1e-4): centroid movement that ends the iterations; >= 0
 * @param palettLambda         {@code palett_lambda} (0.0): outlier damping in the centroid update; >= 0
 * @param addExtraCentroid     {@code add_extra_centroid} (false): one centroid more than 2^n_bits
 * @param palettClusterTol     {@code palett_cluster_tol} (0.05): tolerance for non-unique centroids; >= 0
 */
public record ModuleDKMPalettizerConfig(
        Integer nBits,
        long weightThreshold,
        int milestone,
        int clusterDim,
        int quantMin,
        int quantMax,
        String dtype,
        ClusterDType clusterDType,
        boolean quantizeActivations,
        long partitionSize,
        List<Integer> clusterPermute,
        double palettMaxMem,
        int kmeansMaxIter,
        double pruneThreshold,
        KMeansInit kmeansInit,
        int kmeansOpt1dThreshold,
        boolean enforceZero,
        DkmMode palettMode,
        double palettTau,
        double palettEpsilon,
        double palettLambda,
        boolean addExtraCentroid,
        double palettClusterTol) {

    /** The seed's n_bits for Linear modules when n_bits is not set. */
    public static final int LINEAR_BITS = 4;
    /** The seed's n_bits for every other module type when n_bits is not set. */
    public static final int OTHER_BITS = 2;
    /** The only activation dtype accepted: the seed's default, torch.qint8. */
    public static final String ACTIVATION_DTYPE = "qint8";

    /** The seed's weight_threshold: weights of more than 2048 elements are palettized. */
    public static final long DEFAULT_WEIGHT_THRESHOLD = 2048;

    /** The numeric defaults are DkmSpec's, the seed's. */
    private static final DkmSpec SPEC_DEFAULTS = DkmSpec.defaults(LINEAR_BITS);
    private static final ModuleDKMPalettizerConfig DEFAULTS = fromSpec(SPEC_DEFAULTS);

    public ModuleDKMPalettizerConfig {
        if (weightThreshold < 0) {
            throw new SpecException("weight_threshold: must be >= 0 (a weight is palettized when its element count"
                    + " exceeds it), got " + weightThreshold);
        }
        if (milestone < 0) {
            throw new SpecException("milestone: must be a step >= 0, got " + milestone);
        }
        if (quantizeActivations) {
            throw new SpecException("quantize_activations: true is not supported: DKMPalettizer palettizes weights and"
                    + " does not quantize activations, which belongs to the trainer's graph (add activation"
                    + " fake-quantization there); set quantize_activations: false or remove it");
        }
        dtype = Objects.requireNonNullElse(dtype, ACTIVATION_DTYPE).replaceFirst("^torch\\.", "");
        if (!dtype.equals(ACTIVATION_DTYPE)) {
            throw new SpecException("dtype: '" + dtype + "' only applies to activation quantization"
                    + " (quantize_activations), which DKMPalettizer does not do (it belongs to the trainer's graph);"
                    + " remove dtype or set it to " + ACTIVATION_DTYPE);
        }
        if (clusterDType == null || kmeansInit == null || palettMode == null) {
            throw new SpecException((clusterDType == null ? "cluster_dtype" : kmeansInit == null ? "kmeans_init"
                    : "palett_mode") + ": missing; it has a default, leave the key out to take it");
        }
        boolean quantMinSet = quantMin != SPEC_DEFAULTS.quantMin();
        if (!clusterDType.isInteger() && (quantMinSet || quantMax != SPEC_DEFAULTS.quantMax())) {
            throw new SpecException((quantMinSet ? "quant_min: " + quantMin : "quant_max: " + quantMax)
                    + " applies only to an integer cluster_dtype (i8, u8), which it bounds, and activations are not"
                    + " quantized; with cluster_dtype " + clusterDType.configName() + " it would be ignored:"
                    + " remove it or set cluster_dtype: i8 or u8");
        }
        if (clusterPermute != null) {
            for (Integer d : clusterPermute) {
                if (d == null) {
                    throw new SpecException("cluster_permute: null inside the list " + clusterPermute);
                }
            }
            clusterPermute = clusterPermute.isEmpty() ? null : List.copyOf(clusterPermute);
        }
        if (!(palettMaxMem > 0 && palettMaxMem <= 1)) {
            throw new SpecException("palett_max_mem: must be a fraction of the accelerator's memory in (0, 1], got "
                    + palettMaxMem);
        }
        // The numeric parameters are DkmSpec's to validate; an unset n_bits resolves to 2 or 4, both valid.
        try {
            new DkmSpec(nBits == null ? LINEAR_BITS : nBits, clusterDim, kmeansMaxIter, palettTau, palettEpsilon,
                    palettLambda, palettMode, clusterDType, quantMin, quantMax, enforceZero, pruneThreshold,
                    addExtraCentroid, palettClusterTol, kmeansInit, kmeansOpt1dThreshold, partitionSize,
                    clusterPermute, 0L);
        } catch (SpecException e) {
            throw new SpecException(DkmFields.keyed(e.getMessage()));
        }
    }

    /** Every parameter at the seed's default; n_bits unset (4 for Linear modules, 2 for others). */
    public static ModuleDKMPalettizerConfig defaults() {
        return DEFAULTS;
    }

    /** A builder starting from {@link #defaults()}. */
    public static Builder builder() {
        return DEFAULTS.toBuilder();
    }

    /** A builder starting from this config's values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A copy with {@code n_bits} set (null: 4 for Linear modules, 2 for others); the seed's most used parameter. */
    public ModuleDKMPalettizerConfig withNBits(Integer bits) {
        return toBuilder().nBits(bits).build();
    }

    /** A copy with {@code weight_threshold} set; the seed's second most used parameter. */
    public ModuleDKMPalettizerConfig withWeightThreshold(long threshold) {
        return toBuilder().weightThreshold(threshold).build();
    }

    /** A copy with {@code milestone} set; the seed's third most used parameter. */
    public ModuleDKMPalettizerConfig withMilestone(int step) {
        return toBuilder().milestone(step).build();
    }

    /** The bits for a weight of a module of this type: n_bits, else 4 for {@code Linear}, 2 for any other type. */
    public int bitsFor(String moduleType) {
        return nBits != null ? nBits : "Linear".equals(moduleType) ? LINEAR_BITS : OTHER_BITS;
    }

    /** What the DKM engine needs for one weight of a module of {@code moduleType}. */
    public DkmSpec spec(String moduleType, long seed) {
        return new DkmSpec(bitsFor(moduleType), clusterDim, kmeansMaxIter, palettTau, palettEpsilon, palettLambda,
                palettMode, clusterDType, quantMin, quantMax, enforceZero, pruneThreshold, addExtraCentroid,
                palettClusterTol, kmeansInit, kmeansOpt1dThreshold, partitionSize,
                clusterPermute == null ? List.of() : clusterPermute, seed);
    }

    /** n_bits unset, the seed's weight_threshold, milestone 0, no activation quantization, all memory, the rest from s. */
    private static ModuleDKMPalettizerConfig fromSpec(DkmSpec s) {
        return new ModuleDKMPalettizerConfig(null, DEFAULT_WEIGHT_THRESHOLD, 0, s.clusterDim(), s.quantMin(),
                s.quantMax(), ACTIVATION_DTYPE, s.clusterDType(), false, s.partitionSize(),
                s.clusterPermute().isEmpty() ? null : s.clusterPermute(), 1.0, s.maxIter(), s.pruneThreshold(),
                s.init(), s.opt1dThreshold(), s.enforceZero(), s.mode(), s.tau(), s.epsilon(), s.lambda(),
                s.addExtraCentroid(), s.clusterTol());
    }

    /** Collects parameters for a {@link ModuleDKMPalettizerConfig}; {@link #build()} validates them. Not thread-safe. */
    public static final class Builder {
        private Integer nBits;
        private long weightThreshold;
        private int milestone;
        private int clusterDim;
        private int quantMin;
        private int quantMax;
        private String dtype;
        private ClusterDType clusterDType;
        private boolean quantizeActivations;
        private long partitionSize;
        private List<Integer> clusterPermute;
        private double palettMaxMem;
        private int kmeansMaxIter;
        private double pruneThreshold;
        private KMeansInit kmeansInit;
        private int kmeansOpt1dThreshold;
        private boolean enforceZero;
        private DkmMode palettMode;
        private double palettTau;
        private double palettEpsilon;
        private double palettLambda;
        private boolean addExtraCentroid;
        private double palettClusterTol;

        private Builder(ModuleDKMPalettizerConfig c) {
            nBits = c.nBits;
            weightThreshold = c.weightThreshold;
            milestone = c.milestone;
            clusterDim = c.clusterDim;
            quantMin = c.quantMin;
            quantMax = c.quantMax;
            dtype = c.dtype;
            clusterDType = c.clusterDType;
            quantizeActivations = c.quantizeActivations;
            partitionSize = c.partitionSize;
            clusterPermute = c.clusterPermute;
            palettMaxMem = c.palettMaxMem;
            kmeansMaxIter = c.kmeansMaxIter;
            pruneThreshold = c.pruneThreshold;
            kmeansInit = c.kmeansInit;
            kmeansOpt1dThreshold = c.kmeansOpt1dThreshold;
            enforceZero = c.enforceZero;
            palettMode = c.palettMode;
            palettTau = c.palettTau;
            palettEpsilon = c.palettEpsilon;
            palettLambda = c.palettLambda;
            addExtraCentroid = c.addExtraCentroid;
            palettClusterTol = c.palettClusterTol;
        }

        public Builder nBits(Integer v) { nBits = v; return this; }
        public Builder weightThreshold(long v) { weightThreshold = v; return this; }
        public Builder milestone(int v) { milestone = v; return this; }
        public Builder clusterDim(int v) { clusterDim = v; return this; }
        public Builder quantMin(int v) { quantMin = v; return this; }
        public Builder quantMax(int v) { quantMax = v; return this; }
        public Builder dtype(String v) { dtype = v; return this; }
        public Builder clusterDType(ClusterDType v) { clusterDType = v; return this; }
        public Builder quantizeActivations(boolean v) { quantizeActivations = v; return this; }
        public Builder partitionSize(long v) { partitionSize = v; return this; }
        public Builder clusterPermute(List<Integer> v) { clusterPermute = v; return this; }
        public Builder palettMaxMem(double v) { palettMaxMem = v; return this; }
        public Builder kmeansMaxIter(int v) { kmeansMaxIter = v; return this; }
        public Builder pruneThreshold(double v) { pruneThreshold = v; return this; }
        public Builder kmeansInit(KMeansInit v) { kmeansInit = v; return this; }
        public Builder kmeansOpt1dThreshold(int v) { kmeansOpt1dThreshold = v; return this; }
        public Builder enforceZero(boolean v) { enforceZero = v; return this; }
        public Builder palettMode(DkmMode v) { palettMode = v; return this; }
        public Builder palettTau(double v) { palettTau = v; return this; }
        public Builder palettEpsilon(double v) { palettEpsilon = v; return this; }
        public Builder palettLambda(double v) { palettLambda = v; return this; }
        public Builder addExtraCentroid(boolean v) { addExtraCentroid = v; return this; }
        public Builder palettClusterTol(double v) { palettClusterTol = v; return this; }

        public ModuleDKMPalettizerConfig build() {
            return new ModuleDKMPalettizerConfig(nBits, weightThreshold, milestone, clusterDim, quantMin, quantMax,
                    dtype, clusterDType, quantizeActivations, partitionSize, clusterPermute, palettMaxMem,
                    kmeansMaxIter, pruneThreshold, kmeansInit, kmeansOpt1dThreshold, enforceZero, palettMode,
                    palettTau, palettEpsilon, palettLambda, addExtraCentroid, palettClusterTol);
        }
    }
}
