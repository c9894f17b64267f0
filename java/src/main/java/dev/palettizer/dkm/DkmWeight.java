package dev.palettizer.dkm;

import dev.palettizer.backend.DkmData;
import dev.palettizer.backend.DkmLayout;
import dev.palettizer.backend.DkmParams;
import dev.palettizer.backend.DkmPasses;
import dev.palettizer.backend.DkmPasses.ValueKeys;
import dev.palettizer.backend.DkmPointMath;
import dev.palettizer.model.DType;
import dev.palettizer.spec.DkmMode;
import dev.palettizer.spec.DkmSpec;
import dev.palettizer.spec.SpecException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * Differentiable k-means (DKM, Cho et al. 2021; coremltools' {@code FakePalettize}) of one weight:
 * the forward pass writes the soft-palettized weight, the backward pass maps its gradient to the
 * original weight's by exact reverse mode through every iteration.
 *
 * <p><b>The map</b> (per partition, centroids C_0 carried over from the previous step, detached):
 * for t = 1..T, attention A_t against C_{t-1} (see {@link DkmPointMath}), {@code u_t = A_t^T x / colsum(A_t)},
 * {@code C_t = Z(Q(u_t))} with Q the cluster_dtype fake quantization ({@link LutFakeQuant}) and Z the
 * enforce_zero pin (centroid 0 := 0). The output is {@code A_T C_T}: the last iteration's attention with
 * its own updated centroids (coremltools' order). T is kmeans_max_iter, or the first t >= 2 at which the
 * inertia (sum of smallest modified squared distances) changed by at most palett_epsilon from the
 * previous iteration's (coremltools' rule, per partition; an inertia of exactly 0 never stops it, as
 * there). The next step starts from C_T.
 *
 * <p><b>Backward</b>: exact reverse mode of that map, except (1) Q passes gradients straight through
 * (STE, as torch's FakeQuantize), (2) in hard mode the attention is a constant one-hot (coremltools makes
 * it a leaf tensor), so only the last centroid update carries gradient: {@code dL/dx_i = dL/dc_{l(i)} / count}.
 * The pin Z blocks the gradient of centroid 0. Clamped dkm attention (below {@code ATTENTION_FLOOR}) has no
 * gradient, as torch's clamp.
 *
 * <p><b>Two routes, same math.</b> Uniquified ("values"): with cluster_dim 1, at most
 * {@link #MAX_VALUE_PARTITIONS} partitions, and every value exactly an fp16 (or bf16) number (F16/BF16
 * input, or F32 input checked each step), all attention algebra runs on (distinct values x k) in tables
 * recomputed per iteration; per element there is one counting pass and one gather pass in forward, one
 * binning and one gather pass ({@code dL/dx_i = A[v_i] g_i + B[v_i]}) in backward. Otherwise
 * ("recompute"): T+1 passes each way recompute the attention from (x, C_t) and keep only the k centroids
 * of every iteration. No n x k array exists; memory beyond the caller's arrays is O(P k dim T) plus, on
 * the values route, the keys and counts of the distinct values (12 bytes each) kept from forward to backward;
 * the 65,536-entry tables per partition live only within a call, in a {@link ValueScratch} shared by all weights.
 *
 * <p><b>Options.</b> Honoured: n_bits, add_extra_centroid (k = 2^n + 1 in clustering too; coremltools
 * adds it only at export), cluster_dim (points are cluster_dim consecutive entries along the clustering axis;
 * must divide the axis and the partition, coremltools would leave a remainder unpalettized),
 * partition_size (channels of the clustering axis per LUT), cluster_permute (only its first entry
 * matters: it names the clustering axis; the order of the others changes no value), kmeans_max_iter,
 * palett_tau, palett_epsilon, palett_mode, cluster_dtype/quant_min/quant_max, enforce_zero (with
 * prune_threshold 0 also coremltools' sparsity mask: only exact zeros may join the zero centroid),
 * prune_threshold (as coremltools: subtracted from every squared distance to centroid 0 in training
 * and in the final assignment; the spec's "hard-shrunk" wording is coremltools' documentation, not its
 * code), palett_cluster_tol (at the start of every step after the first, when fewer than
 * k (1 - tol) distinct centroids remain, the first duplicate of each repeated centroid moves halfway
 * to the next distinct centroid in sorted order), kmeans_init and kmeans_opt1d_threshold ({@link DkmInit}),
 * seed. Refused: palett_lambda > 0 (coremltools reads it but never applies it, so there is no reference
 * formula). gsm noise is keyed by value bits, see {@link DkmPointMath#gumbel}. Empty clusters (possible in
 * hard and gsm mode; coremltools asserts) keep their previous centroid and pass no gradient.
 *
 * <p><b>Route choice.</b> Per step: F16/BF16 input uses its own keys; F32 input is counted with fp16 keys,
 * then bf16 keys (the last kind that worked first), and a pass stops as soon as a value has no key, so a
 * genuinely fp32 weight costs a fraction of a pass before recomputation.
 *
 * <p><b>Precision.</b> Per-point math and all reductions are in double; outputs are written in the caller's
 * type. On the recompute route the weight gradient is accumulated across iterations in gradIn itself, so
 * an F16/BF16 gradIn rounds T times: pass F32 where that matters.
 *
 * <p><b>Concurrency.</b> Not thread-safe: one call at a time per weight (the passes parallelise inside a call);
 * distinct weights may run concurrently when they share a thread-safe {@link DkmPasses}. The array given
 * to forward is kept (not copied) for the following backward and must not change in between.
 */
public final class DkmWeight {
    /** Partitions above which the 65,536-entry tables per partition cost more than recomputation saves. */
    public static final int MAX_VALUE_PARTITIONS = 4;
    /** Points per partition the k-means init looks at, at most. */
    public static final int INIT_SAMPLE = 65_536;
    private static final int KEYS = 65_536;
    /** The values route's table algebra runs in blocks of about this many distinct values, at most MAX_ALGEBRA_BLOCKS. */
    private static final int ALGEBRA_BLOCK_VALUES = 2048;
    private static final int MAX_ALGEBRA_BLOCKS = 16;

    private final String name;
    private final DkmSpec spec;
    private final DkmPasses passes;
    private final DkmLayout layout;
    private final int k;
    private final int dim;
    private final int partitions;
    private final int stride;
    private final boolean keepSparsity;

    private double[] centroids;
    private long step;
    private final double[][] hist;
    private final double[][] mass;
    private final double[][] means;
    private final int[] iterations;
    private final double[] inertia;
    private final double[] sums;
    private final double[] gc;
    private final double[] gcPrev;
    private final double[] e;
    private final double[] f;

    private DkmData forwardInput;
    private ValueKeys forwardKeys;
    private int[] iterationsOfForward;
    private long stepOfForward;
    private ValueKeys preferredKeys;
    private ValueTables values;

    /** Planted-fault hook for the tests' proof that the gradient checks can fail: drops the -f_j term. */
    boolean dropMeanShiftTerm;
    /** Tests turn the values route off to compare both routes on the same input. */
    boolean valuesRouteAllowed = true;

    public DkmWeight(String name, long[] shape, DkmSpec spec, DkmPasses passes) {
        this.name = Objects.requireNonNull(name, "name");
        this.spec = Objects.requireNonNull(spec, "spec");
        this.passes = Objects.requireNonNull(passes, "passes");
        Objects.requireNonNull(shape, "shape");
        if (spec.lambda() > 0) {
            throw new SpecException(name + ": not supported: palett_lambda " + spec.lambda()
                    + " (coremltools reads it but never applies it, so there is no formula to follow); set palett_lambda: 0");
        }
        int rank = shape.length;
        if (rank == 0) {
            throw new SpecException(name + ": not supported: DKM of a scalar");
        }
        for (long d : shape) {
            if (d < 1) {
                throw new SpecException(name + ": shape " + Arrays.toString(shape) + " has an empty dimension");
            }
        }
        if (!spec.clusterPermute().isEmpty() && spec.clusterPermute().size() != rank) {
            throw new SpecException(name + ": cluster_permute " + spec.clusterPermute() + " has " + spec.clusterPermute().size()
                    + " entries but the weight has rank " + rank + " " + Arrays.toString(shape));
        }
        int axis = spec.clusterPermute().isEmpty() ? 0 : spec.clusterPermute().get(0);
        long inner = 1;
        for (int a = axis + 1; a < rank; a++) {
            inner = Math.multiplyExact(inner, shape[a]);
        }
        long elements = 1;
        for (long d : shape) {
            elements = Math.multiplyExact(elements, d);
        }
        this.dim = spec.clusterDim();
        long axisLen = shape[axis];
        long partitionChannels = Math.min(spec.partitionSize(), axisLen);
        if (axisLen % dim != 0 || partitionChannels % dim != 0) {
            throw new SpecException(name + ": not supported: cluster_dim " + dim + " must divide the clustering axis (" + axisLen
                    + ") and the channels per partition (" + partitionChannels + "); coremltools would leave the remainder unpalettized");
        }
        this.layout = new DkmLayout(elements, inner, axisLen, dim, partitionChannels);
        this.k = spec.lutSize();
        this.partitions = layout.partitions();
        for (int p = 0; p < partitions; p++) {
            if (layout.pointsIn(p) < k) {
                throw new SpecException(name + ": partition " + p + " has " + layout.pointsIn(p) + " points of cluster_dim " + dim
                        + ", fewer than the " + k + " centroids; lower n_bits or raise partition_size");
            }
        }
        if ((long) partitions * k * dim > Integer.MAX_VALUE / 4) {
            throw new SpecException(name + ": " + partitions + " partitions of " + k + " centroids is too many LUT entries");
        }
        this.stride = k * dim;
        this.keepSparsity = spec.enforceZero() && spec.pruneThreshold() == 0;
        int t1 = spec.maxIter() + 1;
        this.hist = new double[t1][partitions * stride];
        this.mass = new double[t1][partitions * k];
        this.means = new double[t1][partitions * stride];
        this.iterations = new int[partitions];
        this.inertia = new double[partitions];
        this.sums = new double[partitions * DkmPasses.sumsWidth(params(0))];
        this.gc = new double[partitions * stride];
        this.gcPrev = new double[partitions * stride];
        this.e = new double[partitions * stride];
        this.f = new double[partitions * k];
    }

    public String name() {
        return name;
    }

    public DkmSpec spec() {
        return spec;
    }

    public DkmLayout layout() {
        return layout;
    }

    /** Forward of a heap weight: writes the soft-palettized weight to out (same length, may not alias w). */
    public void forward(float[] w, float[] out) {
        checkLength("weight", w.length, "output", out.length);
        if (w == out) {
            throw new IllegalArgumentException(name + ": forward output must not be the weight array (backward reads the weight)");
        }
        forward(DkmData.of(w), DkmData.of(out), null);
    }

    /** Forward of an off-heap weight (F32, F16 or BF16, little-endian), output in outType. */
    public void forward(MemorySegment w, DType type, MemorySegment out, DType outType) {
        DkmData wd = DkmData.of(w, type);
        DkmData od = DkmData.of(out, outType);
        checkLength("weight", wd.length(), "output", od.length());
        checkDisjoint(w, "weight", out, "output");
        forward(wd, od, type == DType.F16 ? ValueKeys.F16 : type == DType.BF16 ? ValueKeys.BF16 : null);
    }

    /** Backward of the last forward: gradient w.r.t. the palettized weight in, gradient w.r.t. the weight out. */
    public void backward(float[] gradOut, float[] gradIn) {
        checkLength("gradient of the output", gradOut.length, "gradient of the weight", gradIn.length);
        if (gradOut == gradIn) {
            throw new IllegalArgumentException(name + ": backward's two gradient arrays must differ (the output gradient is read while the weight's is written)");
        }
        backward(DkmData.of(gradOut), DkmData.of(gradIn));
    }

    /** Backward over off-heap gradients (F32, F16 or BF16). */
    public void backward(MemorySegment gradOut, DType gradType, MemorySegment gradIn, DType gradInType) {
        DkmData g = DkmData.of(gradOut, gradType);
        DkmData gi = DkmData.of(gradIn, gradInType);
        checkLength("gradient of the output", g.length(), "gradient of the weight", gi.length());
        checkDisjoint(gradOut, "gradient of the output", gradIn, "gradient of the weight");
        backward(g, gi);
    }

    /** Reads and writes of one call must not alias: the passes read one while writing the other, and devices keep copies. */
    private void checkDisjoint(MemorySegment read, String readName, MemorySegment written, String writtenName) {
        if (read.asOverlappingSlice(written).isPresent()) {
            throw new IllegalArgumentException(name + ": the " + writtenName + " overlaps the " + readName + "; pass separate memory");
        }
    }

    /** The current centroids, one LUT of k*dim values (centroid-major) per partition; empty before the first forward. */
    public float[][] lut() {
        if (centroids == null) {
            return new float[0][];
        }
        float[][] luts = new float[partitions][stride];
        for (int p = 0; p < partitions; p++) {
            for (int i = 0; i < stride; i++) {
                luts[p][i] = (float) centroids[p * stride + i];
            }
        }
        return luts;
    }

    /**
     * What finalize writes: the current LUTs (already cluster_dtype-quantized, as the forward used them)
     * and each element's nearest centroid (prune_threshold subtracted for centroid 0, as coremltools'
     * palettize); every element of a point gets the point's index, its component is its position along the
     * clustering axis modulo cluster_dim. Partition of an element: {@link DkmLayout#partitionOfElement}.
     */
    public float[][] harden(float[] w, int[] indices) {
        checkLength("weight", w.length, "indices", indices.length);
        return harden(DkmData.of(w), DkmPasses.IndexSink.of(indices));
    }

    /** {@link #harden(float[], int[])} over a segment, indices as little-endian u16. */
    public float[][] harden(MemorySegment w, DType type, MemorySegment indicesU16) {
        DkmData wd = DkmData.of(w, type);
        checkLength("weight", wd.length(), "indices", indicesU16.byteSize() / 2);
        return harden(wd, DkmPasses.IndexSink.ofU16(indicesU16));
    }

    public DkmStats stats() {
        int[] distinct = new int[partitions];
        if (centroids != null) {
            for (int p = 0; p < partitions; p++) {
                distinct[p] = distinctRows(centroids, p * stride);
            }
        }
        return new DkmStats(step, forwardKeys != null ? "values" : "recompute", iterations, inertia, distinct);
    }

    // ---------------------------------------------------------------- forward

    private void forward(DkmData w, DkmData out, ValueKeys declared) {
        if (w.length() != layout.elements()) {
            throw new IllegalArgumentException(name + ": weight has " + w.length() + " elements, expected " + layout.elements());
        }
        forwardInput = null;
        ValueScratch scratch = valuesRouteOpen() ? ValueScratch.borrow(partitions) : null;
        try {
            passes.beginStep(w, null);
            forward(w, out, declared, scratch);
        } finally {
            passes.endStep();
            if (scratch != null) {
                ValueScratch.release(scratch);
            }
        }
    }

    private void forward(DkmData w, DkmData out, ValueKeys declared, ValueScratch scratch) {
        ValueKeys keys = scratch != null ? chooseKeys(w, declared, scratch) : null;
        if (centroids == null) {
            long bad = passes.firstNonFinite(w);
            if (bad >= 0) {
                throw nonFinite("weight", w, bad);
            }
            centroids = initialCentroids(w, keys, scratch);
        }
        long thisStep = step + 1;
        System.arraycopy(centroids, 0, hist[0], 0, centroids.length);
        if (step > 0) {
            for (int p = 0; p < partitions; p++) {
                splitDuplicates(hist[0], p * stride);
            }
        }
        if (keepSparsity) {
            for (int p = 0; p < partitions; p++) {
                Arrays.fill(hist[0], p * stride, p * stride + dim, 0);
            }
        }
        int[] iters = new int[partitions];
        double[] lastInertia = new double[partitions];
        boolean[] active = new boolean[partitions];
        Arrays.fill(active, true);
        for (int t = 1; t <= spec.maxIter(); t++) {
            DkmParams params = params(thisStep, t);
            if (keys != null) {
                values.sums(scratch, params, hist[t - 1], active, sums);
            } else {
                passes.attentionSums(w, layout, params, hist[t - 1], active, sums);
            }
            int width = DkmPasses.sumsWidth(params);
            boolean any = false;
            for (int p = 0; p < partitions; p++) {
                if (!active[p]) {
                    System.arraycopy(hist[t - 1], p * stride, hist[t], p * stride, stride);
                    continue;
                }
                double cur = sums[p * width + width - 1];
                if (!Double.isFinite(cur)) {
                    throw nonFinite("weight", w, passes.firstNonFinite(w));
                }
                update(t, p, sums, p * width);
                iters[p] = t;
                inertia[p] = cur;
                if (t > 1 && lastInertia[p] != 0 && Math.abs(lastInertia[p] - cur) <= spec.epsilon()) {
                    active[p] = false;
                }
                lastInertia[p] = cur;
                any |= active[p];
            }
            if (!any) {
                break;
            }
        }
        // Output: each group of partitions that stopped at the same iteration shares one noise key.
        boolean[] group = new boolean[partitions];
        if (keys != null) {
            values.apply(scratch, iters, thisStep);
            passes.gatherByValue(w, out, layout, keys, scratch.table);
        } else {
            for (int t = 1; t <= spec.maxIter(); t++) {
                if (selectIteration(iters, t, group)) {
                    passes.attentionApply(w, out, layout, params(thisStep, t), hist[t - 1], hist[t], group);
                }
            }
        }
        for (int p = 0; p < partitions; p++) {
            System.arraycopy(hist[iters[p]], p * stride, centroids, p * stride, stride);
        }
        System.arraycopy(iters, 0, iterations, 0, partitions);
        step = thisStep;
        stepOfForward = thisStep;
        iterationsOfForward = iters;
        forwardKeys = keys;
        forwardInput = w;
    }

    /** Centroid update of iteration t for partition p from its reductions at sums[so..]. */
    private void update(int t, int p, double[] s, int so) {
        int co = p * stride;
        for (int j = 0; j < k; j++) {
            double m = s[so + j];
            mass[t][p * k + j] = m;
            for (int d = 0; d < dim; d++) {
                int i = co + j * dim + d;
                means[t][i] = m > 0 ? s[so + k + j * dim + d] / m : hist[t - 1][i];
            }
        }
        System.arraycopy(means[t], co, hist[t], co, stride);
        LutFakeQuant.apply(spec.clusterDType(), spec.quantMin(), spec.quantMax(), hist[t], co, stride);
        if (spec.enforceZero()) {
            Arrays.fill(hist[t], co, co + dim, 0);
        }
    }

    private static boolean selectIteration(int[] iters, int t, boolean[] group) {
        boolean any = false;
        for (int p = 0; p < iters.length; p++) {
            group[p] = iters[p] == t;
            any |= group[p];
        }
        return any;
    }

    // ---------------------------------------------------------------- backward

    private void backward(DkmData g, DkmData gradIn) {
        if (forwardInput == null || stepOfForward != step) {
            throw new IllegalStateException(name + ": backward needs the forward of the same step first (no forward since the last backward or failure)");
        }
        if (g.length() != layout.elements()) {
            throw new IllegalArgumentException(name + ": gradient has " + g.length() + " elements, expected " + layout.elements());
        }
        DkmData w = forwardInput;
        int[] iters = iterationsOfForward;
        try {
            passes.beginStep(w, g);
            if (forwardKeys != null) {
                values.backward(w, g, gradIn, iters);
            } else {
                backwardRecompute(w, g, gradIn, iters);
            }
        } finally {
            passes.endStep();
        }
        forwardInput = null;
    }

    private void backwardRecompute(DkmData w, DkmData g, DkmData gradIn, int[] iters) {
        boolean[] group = new boolean[partitions];
        int tMax = 0;
        for (int t = 1; t <= spec.maxIter(); t++) {
            if (selectIteration(iters, t, group)) {
                passes.attentionGradientSums(w, g, layout, params(stepOfForward, t), hist[t - 1], group, gcPrev);
                for (int p = 0; p < partitions; p++) {
                    if (group[p]) {
                        System.arraycopy(gcPrev, p * stride, gc, p * stride, stride);
                    }
                }
                tMax = t;
            }
        }
        requireFiniteGradient(g, gc);
        byte[] role = new byte[partitions];
        for (int t = tMax; t >= 1; t--) {
            for (int p = 0; p < partitions; p++) {
                role[p] = (byte) (iters[p] == t ? 2 : iters[p] > t && spec.mode() != DkmMode.HARD ? 1 : 0);
                if (role[p] != 0) {
                    updateTerms(t, p, gc);
                }
            }
            passes.backwardIteration(w, g, gradIn, t != tMax, layout, params(stepOfForward, t), hist[t - 1], hist[t], e, f, role, gcPrev);
            for (int p = 0; p < partitions; p++) {
                if (role[p] != 0) {
                    System.arraycopy(gcPrev, p * stride, gc, p * stride, stride);
                }
            }
        }
    }

    /** e_j = dL/du_j / S_j and f_j = e_j . u_j of iteration t, partition p, from dL/dC_t in grad (Q is STE, Z blocks centroid 0). */
    private void updateTerms(int t, int p, double[] grad) {
        for (int j = 0; j < k; j++) {
            double m = mass[t][p * k + j];
            double fj = 0;
            for (int d = 0; d < dim; d++) {
                int i = p * stride + j * dim + d;
                double ej = m > 0 && !(spec.enforceZero() && j == 0) ? grad[i] / m : 0;
                e[i] = ej;
                fj += ej * means[t][i];
            }
            f[p * k + j] = dropMeanShiftTerm ? 0 : fj;
        }
    }

    private void requireFiniteGradient(DkmData g, double[] reduced) {
        for (double v : reduced) {
            if (!Double.isFinite(v)) {
                throw nonFinite("gradient", g, passes.firstNonFinite(g));
            }
        }
    }

    private IllegalArgumentException nonFinite(String what, DkmData data, long index) {
        float[] v = new float[1];
        if (index >= 0) {
            data.read(index, 1, v, 0, 1);
        }
        return new IllegalArgumentException(name + ": " + what + " is not finite at index " + index
                + (index >= 0 ? " (" + v[0] + ")" : "") + "; state unchanged, the next finite step works");
    }

    // ---------------------------------------------------------------- helpers

    /** The centroids the last forward started from (after the cluster_tol split), per partition. */
    double[] startCentroids() {
        return hist[0].clone();
    }

    DkmParams params(long stepNo, int iteration) {
        return new DkmParams(k, dim, spec.mode(), spec.tau(), spec.pruneThreshold(), keepSparsity,
                DkmPointMath.noiseKey(spec.seed(), stepNo, iteration));
    }

    private DkmParams params(int iteration) {
        return params(step, iteration);
    }

    private void checkLength(String a, long la, String b, long lb) {
        if (la != layout.elements() || lb != layout.elements()) {
            throw new IllegalArgumentException(name + ": " + a + " has " + la + " elements and " + b + " has " + lb
                    + ", both must have " + layout.elements() + " (shape of the weight)");
        }
    }

    private boolean valuesRouteOpen() {
        return dim == 1 && partitions <= MAX_VALUE_PARTITIONS && valuesRouteAllowed;
    }

    private ValueKeys chooseKeys(DkmData w, ValueKeys declared, ValueScratch scratch) {
        if (values == null) {
            values = new ValueTables();
        }
        ValueKeys[] order = declared != null ? new ValueKeys[] {declared}
                : preferredKeys == ValueKeys.BF16 ? new ValueKeys[] {ValueKeys.BF16, ValueKeys.F16}
                : new ValueKeys[] {ValueKeys.F16, ValueKeys.BF16};
        for (ValueKeys keys : order) {
            if (passes.countValues(w, layout, keys, scratch.dense)) {
                preferredKeys = keys;
                values.collect(keys, scratch);
                return keys;
            }
        }
        return null;
    }

    private double[] initialCentroids(DkmData w, ValueKeys keys, ValueScratch scratch) {
        double[] c = new double[partitions * stride];
        for (int p = 0; p < partitions; p++) {
            float[] pts;
            double[] wts;
            int n;
            if (keys != null) {
                n = values.start[p + 1] - values.start[p];
                pts = Arrays.copyOfRange(scratch.value, values.start[p], values.start[p + 1]);
                wts = Arrays.copyOfRange(values.count, values.start[p], values.start[p + 1]);
            } else {
                long total = layout.pointsIn(p);
                n = (int) Math.min(total, INIT_SAMPLE);
                pts = new float[n * dim];
                wts = new double[n];
                Arrays.fill(wts, 1);
                for (int j = 0; j < n; j++) {
                    long q = layout.pointOfPartition(p, total * j / n);
                    for (int d = 0; d < dim; d++) {
                        w.read(layout.element(q, d), 1, pts, j * dim + d, 1);
                    }
                }
            }
            double[] cp = DkmInit.centroids(pts, wts, n, dim, k, layout.pointsIn(p), spec.opt1dThreshold(), spec.enforceZero(),
                    spec.seed() ^ (0x632BE59BD9B4E019L * (p + 1)));
            System.arraycopy(cp, 0, c, p * stride, stride);
        }
        return c;
    }

    private float[][] harden(DkmData w, DkmPasses.IndexSink sink) {
        if (centroids == null) {
            throw new IllegalStateException(name + ": harden needs at least one forward (the LUT is set by the first one)");
        }
        passes.assign(w, layout, params(1), centroids, sink);
        return lut();
    }

    /** palett_cluster_tol: coremltools' split of duplicate centroids at the start of a step. */
    private void splitDuplicates(double[] c, int off) {
        Integer[] order = new Integer[k];
        for (int j = 0; j < k; j++) {
            order[j] = j;
        }
        Arrays.sort(order, (a, b) -> compareRows(c, off + a * dim, off + b * dim));
        int[] firstOf = new int[k];
        int[] countOf = new int[k];
        int[] rowOf = new int[k];
        int u = 0;
        for (int i = 0; i < k; i++) {
            int j = order[i];
            if (u > 0 && compareRows(c, off + rowOf[u - 1] * dim, off + j * dim) == 0) {
                countOf[u - 1]++;
                firstOf[u - 1] = Math.min(firstOf[u - 1], j);
            } else {
                rowOf[u] = j;
                firstOf[u] = j;
                countOf[u] = 1;
                u++;
            }
        }
        if (u >= k * (1 - spec.clusterTol())) {
            return;
        }
        double[] uniq = new double[u * dim];
        for (int g = 0; g < u; g++) {
            System.arraycopy(c, off + rowOf[g] * dim, uniq, g * dim, dim);
        }
        for (int g = 0; g < u; g++) {
            if (countOf[g] > 1) {
                int next = (g + 1) % u;
                for (int d = 0; d < dim; d++) {
                    c[off + firstOf[g] * dim + d] = 0.5 * (uniq[g * dim + d] + uniq[next * dim + d]);
                }
            }
        }
    }

    private int compareRows(double[] c, int a, int b) {
        for (int d = 0; d < dim; d++) {
            int cmp = Double.compare(c[a + d], c[b + d]);
            if (cmp != 0) {
                return cmp;
            }
        }
        return 0;
    }

    private int distinctRows(double[] c, int off) {
        int distinct = 0;
        for (int j = 0; j < k; j++) {
            boolean seen = false;
            for (int i = 0; i < j && !seen; i++) {
                seen = compareRows(c, off + i * dim, off + j * dim) == 0;
            }
            distinct += seen ? 0 : 1;
        }
        return distinct;
    }

    // ---------------------------------------------------------------- uniquified route

    /**
     * The values route's state kept from forward to backward: the distinct keys of each partition and their
     * counts (12 bytes per distinct value). The dense per-key tables live in a {@link ValueScratch} for one call.
     */
    private final class ValueTables {
        /** Distinct values of each partition in key order: [start[p], start[p+1]); key includes p * KEYS. */
        int[] key = new int[0];
        double[] count = new double[0];
        final int[] start = new int[partitions + 1];
        final Block[] blocks = new Block[MAX_ALGEBRA_BLOCKS];
        ValueKeys keys;

        /** One block's scratch and its partial of a per-partition reduction. */
        final class Block {
            final double[] scratchGrad = new double[stride];
            final double[] one = {1};
            final double[] gv = new double[1];
            final DkmPointMath.Scratch sc = new DkmPointMath.Scratch(k, 1);
            final double[] partial = new double[Math.max(2 * k + 1, stride)];
            int from;
            int to;
        }

        ValueTables() {
            for (int b = 0; b < blocks.length; b++) {
                blocks[b] = new Block();
            }
        }

        /** Cuts partition p's values into blocks fixed by their number, sets their ranges and clears partials; returns the count. */
        int split(int p, int width) {
            int n = start[p + 1] - start[p];
            int count = Math.clamp((n + ALGEBRA_BLOCK_VALUES - 1) / ALGEBRA_BLOCK_VALUES, 1, MAX_ALGEBRA_BLOCKS);
            for (int b = 0; b < count; b++) {
                Block blk = blocks[b];
                blk.from = start[p] + (int) ((long) n * b / count);
                blk.to = start[p] + (int) ((long) n * (b + 1) / count);
                Arrays.fill(blk.partial, 0, width, 0);
            }
            return count;
        }

        /** Adds the blocks' partials in block order into out[off..off+width). */
        void combine(int count, int width, double[] out, int off) {
            for (int b = 0; b < count; b++) {
                double[] part = blocks[b].partial;
                for (int x = 0; x < width; x++) {
                    out[off + x] += part[x];
                }
            }
        }

        /** Compacts the counts in s.dense and fills s.value. */
        void collect(ValueKeys keys, ValueScratch s) {
            this.keys = keys;
            int total = partitions * KEYS;
            int m = 0;
            for (int i = 0; i < total; i++) {
                m += s.dense[i] > 0 ? 1 : 0;
            }
            if (key.length != m) {
                key = new int[m];
                count = new double[m];
            }
            m = 0;
            for (int p = 0; p < partitions; p++) {
                start[p] = m;
                for (int v = 0; v < KEYS; v++) {
                    double n = s.dense[p * KEYS + v];
                    if (n > 0) {
                        key[m] = p * KEYS + v;
                        count[m++] = n;
                    }
                }
            }
            start[partitions] = m;
            fillValues(s);
        }

        void fillValues(ValueScratch s) {
            for (int i = 0; i < start[partitions]; i++) {
                s.value[i] = keys.value(key[i] & (KEYS - 1));
            }
        }

        void sums(ValueScratch s, DkmParams params, double[] cIn, boolean[] active, double[] out) {
            float[] value = s.value;
            int width = DkmPasses.sumsWidth(params);
            Arrays.fill(out, 0);
            for (int p = 0; p < partitions; p++) {
                if (!active[p]) {
                    continue;
                }
                int co = p * stride;
                int nb = split(p, width);
                passes.forEachBlock(nb, b -> {
                    Block blk = blocks[b];
                    double[] part = blk.partial;
                    for (int i = blk.from; i < blk.to; i++) {
                        double best = DkmPointMath.attention(value, i, cIn, co, params, blk.sc);
                        double[] a = blk.sc.attentionRow();
                        double n = count[i];
                        for (int j = 0; j < k; j++) {
                            part[j] += n * a[j];
                            part[k + j] += n * a[j] * value[i];
                        }
                        part[width - 1] += n * best;
                    }
                });
                combine(nb, width, out, p * width);
            }
        }

        void apply(ValueScratch s, int[] iters, long stepNo) {
            float[] value = s.value;
            for (int p = 0; p < partitions; p++) {
                int t = iters[p];
                DkmParams params = params(stepNo, t);
                int co = p * stride;
                passes.forEachBlock(split(p, 0), b -> {
                    Block blk = blocks[b];
                    for (int i = blk.from; i < blk.to; i++) {
                        DkmPointMath.attention(value, i, hist[t - 1], co, params, blk.sc);
                        double[] a = blk.sc.attentionRow();
                        double v = 0;
                        for (int j = 0; j < k; j++) {
                            v += a[j] * hist[t][co + j];
                        }
                        s.table[key[i]] = (float) v;
                    }
                });
            }
        }

        void backward(DkmData w, DkmData g, DkmData gradIn, int[] iters) {
            ValueScratch s = ValueScratch.borrow(partitions);
            try {
                backward(w, g, gradIn, iters, s);
            } finally {
                ValueScratch.release(s);
            }
        }

        private void backward(DkmData w, DkmData g, DkmData gradIn, int[] iters, ValueScratch s) {
            double[] gsum = s.dense;
            float[] gradA = s.table;
            float[] gradB = s.offset;
            double[] bAcc = s.bAcc;
            float[] value = s.value;
            fillValues(s);
            passes.sumByValue(w, g, layout, keys, gsum);
            for (int p = 0; p < partitions; p++) {
                for (int i = start[p]; i < start[p + 1]; i++) {
                    if (!Double.isFinite(gsum[key[i]])) {
                        throw nonFinite("gradient", g, passes.firstNonFinite(g));
                    }
                }
            }
            for (int p = 0; p < partitions; p++) {
                int tLast = iters[p];
                int co = p * stride;
                DkmParams last = params(stepOfForward, tLast);
                Arrays.fill(gc, co, co + stride, 0);
                int nb = split(p, stride);
                passes.forEachBlock(nb, b -> {
                    Block blk = blocks[b];
                    for (int i = blk.from; i < blk.to; i++) {
                        DkmPointMath.attention(value, i, hist[tLast - 1], co, last, blk.sc);
                        double[] a = blk.sc.attentionRow();
                        for (int j = 0; j < k; j++) {
                            blk.partial[j] += a[j] * gsum[key[i]];
                        }
                    }
                });
                combine(nb, stride, gc, co);
                int n0 = start[p];
                Arrays.fill(bAcc, 0, start[p + 1] - n0, 0);
                int tFirst = spec.mode() == DkmMode.HARD ? tLast : 1;
                for (int t = tLast; t >= tFirst; t--) {
                    DkmParams params = params(stepOfForward, t);
                    updateTerms(t, p, gc);
                    Arrays.fill(gcPrev, co, co + stride, 0);
                    boolean direct = t == tLast;
                    int fo = p * k;
                    double[] cIn = hist[t - 1];
                    double[] cOut = hist[t];
                    split(p, stride);
                    passes.forEachBlock(nb, b -> {
                        Block blk = blocks[b];
                        DkmPointMath.Scratch sc = blk.sc;
                        for (int i = blk.from; i < blk.to; i++) {
                            DkmPointMath.attention(value, i, cIn, co, params, sc);
                            blk.gv[0] = gsum[key[i]];
                            DkmPointMath.backward(value, i, cIn, co, direct ? blk.gv : null, 0, cOut, co, count[i],
                                    e, co, f, fo, params, sc, blk.partial, 0);
                            DkmPointMath.backward(value, i, cIn, co, null, 0, cOut, co, 1,
                                    e, co, f, fo, params, sc, blk.scratchGrad, 0);
                            bAcc[i - n0] += sc.pointGradient()[0];
                            if (direct) {
                                DkmPointMath.backward(value, i, cIn, co, blk.one, 0, cOut, co, 0,
                                        e, co, f, fo, params, sc, blk.scratchGrad, 0);
                                gradA[key[i]] = (float) sc.pointGradient()[0];
                            }
                        }
                    });
                    combine(nb, stride, gcPrev, co);
                    System.arraycopy(gcPrev, co, gc, co, stride);
                }
                for (int i = start[p]; i < start[p + 1]; i++) {
                    gradB[key[i]] = (float) bAcc[i - n0];
                }
            }
            passes.gatherGradientByValue(w, g, gradIn, layout, keys, gradA, gradB);
        }
    }
}
