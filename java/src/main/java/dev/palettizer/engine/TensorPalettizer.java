package dev.palettizer.engine;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.ClusterInput;
import dev.palettizer.backend.ValueKey;
import dev.palettizer.backend.WeightedValues;
import dev.palettizer.kmeans.KMeansPlusPlus;
import dev.palettizer.kmeans.LutQuantizer;
import dev.palettizer.kmeans.OptimalKMeans1D;
import dev.palettizer.model.DType;
import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.QuantizedLut;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * Palettizes one tensor: scan the input, seed each group's LUT (optimal 1-D k-means on the value
 * histogram, or k-means++), refine with Lloyd steps on the exact values, quantize the LUT, assign
 * the final indices and pack them. The data-parallel steps run on the {@link Backend}.
 */
public final class TensorPalettizer {
    /** Largest sample k-means++ seeds from, per LUT entry. */
    private static final int SAMPLE_PER_ENTRY = 64;
    private static final int SAMPLE_MIN = 4096;
    /** Largest magnitude fp16 holds; fast mode falls back to exact keys beyond it. */
    private static final float FP16_MAX = 65504f;
    /** Distinct values (16 bytes each) of the group histograms alive at once: 16 MiB. */
    private static final long HISTOGRAM_BATCH_ENTRIES = 1 << 20;
    /** Share of a tensor's progress reached once its LUTs are seeded; the assignment pass makes the rest. */
    private static final double SEEDED_SHARE = 0.7;

    private final Backend backend;
    private final EngineOptions options;
    private final ForkJoinPool pool;

    public TensorPalettizer(Backend backend, EngineOptions options, ForkJoinPool pool) {
        this.backend = backend;
        this.options = options;
        this.pool = pool;
    }

    /** Palettizes with the engine's default clustering mode. */
    public Outcome palettize(TensorInput t, PalettizationSpec spec) {
        return palettize(t, spec, options.clusterMode());
    }

    public Outcome palettize(TensorInput t, PalettizationSpec spec, ClusterMode mode) {
        return palettize(t, spec, mode, TensorProgress.none(t.name()));
    }

    /** Palettizes, marking parts of the work done on {@code progress} as they finish (not {@link TensorProgress#finish}). */
    public Outcome palettize(TensorInput t, PalettizationSpec spec, ClusterMode mode, TensorProgress progress) {
        if (!ForkJoinTask.inForkJoinPool()) {
            return pool.invoke(ForkJoinTask.adapt(() -> palettize(t, spec, mode, progress)));
        }
        checkOptions(t, spec, mode);
        try {
            return cluster(t, spec, mode, progress);
        } catch (OutOfMemoryError e) {
            throw TensorMemoryError.of(t, spec, mode, e);
        } finally {
            // Each tensor is read once: a mapped model must not stay resident as a whole.
            t.values().release();
            if (t.sensitivities() != null) {
                t.sensitivities().release();
            }
        }
    }

    private Outcome cluster(TensorInput t, PalettizationSpec spec, ClusterMode mode, TensorProgress progress) {
        GroupLayout.Result fit = GroupLayout.of(t.shape(), spec);
        if (fit.layout().isEmpty()) {
            return new Outcome.Skipped(t.name(), fit.skipReason());
        }
        GroupLayout layout = fit.layout().get();
        if (layout.vectorCount() > Integer.MAX_VALUE - 8) {
            throw new SpecException("tensor '" + t.name() + "': " + layout.vectorCount()
                    + " indices exceed the 2^31 supported per tensor");
        }
        if (layout.ragged()) {
            return RaggedGroups.palettize(this, backend, t, spec, mode, layout);
        }
        long started = System.nanoTime();
        InputScan scan = InputScan.of(t, layout.rows());
        float[] scales = spec.perChannelScale() ? scan.channelScales() : null;
        ClusterInput in = new ClusterInput(t.values(), t.sensitivities(), layout, scales);
        int lutSize = spec.lutSize();
        boolean scalarOptimal = layout.clusterDim() == 1 && options.algorithm() != Algorithm.KMEANS_PLUS_PLUS;
        float maxClustered = scales != null ? 1f : scan.maxAbs();
        Seeds seeds = scalarOptimal
                ? optimalSeeds(t, in, lutSize, keyFor(mode, t.dtype(), scales != null, maxClustered), progress)
                : kmeansPlusPlusSeeds(in, lutSize);
        String note = null;
        if (seeds == null) {
            note = FastModeCollapse.note(mode);
            ClusterMode exact = new ClusterMode(false, mode.roundingPrecision());
            seeds = optimalSeeds(t, in, lutSize, keyFor(exact, t.dtype(), scales != null, maxClustered), progress);
        }
        progress.reach(SEEDED_SHARE);

        byte[] indices = new byte[(int) layout.vectorCount()];
        // The optimal seeds need no Lloyd steps: on exact keys they are optimal, and in fast mode
        // a step gains under 0.001 % of SSE on typical weights, at the cost of two passes.
        float[] lut = scalarOptimal ? seeds.lut() : refine(in, seeds, lutSize, indices, progress);
        QuantizedLut quantized = null;
        if (spec.lutQuant() != null) {
            quantized = LutQuantizer.quantize(lut, spec.lutQuant());
            lut = quantized.values();
        }
        ErrorStats error = backend.assign(in, lut, lutSize, indices);
        progress.reach(1.0);
        byte[] packed = backend.pack(indices, indices.length, spec.nBits());
        PalettizedTensor out = new PalettizedTensor(t.name(), spec, t.dtype(), t.shape().clone(), layout.groups(),
                lut, quantized, packed, indices.length, scales, error);
        return new Outcome.Palettized(out, (System.nanoTime() - started) / 1e9, note);
    }

    private void checkOptions(TensorInput t, PalettizationSpec spec, ClusterMode mode) {
        if (spec.clusterDim() > 1 && mode.fast()) {
            throw new SpecException("tensor '" + t.name() + "': fast k-means mode is not supported with cluster_dim "
                    + spec.clusterDim() + " > 1; disable it (--no-fast, or enable_fast_kmeans_mode: false in a config)");
        }
        if (spec.clusterDim() > 1 && options.algorithm() == Algorithm.OPTIMAL) {
            throw new SpecException("tensor '" + t.name() + "': the optimal 1-D algorithm needs cluster_dim 1, got "
                    + spec.clusterDim() + "; use kmeans++ (or auto)");
        }
        if (!t.dtype().isPalettizable()) {
            throw new SpecException("tensor '" + t.name() + "': dtype " + t.dtype()
                    + " cannot be palettized (only F32, F16, BF16)");
        }
    }

    /** Which value each element counts as in the histogram (fast mode, or the exact storage type). */
    private static ValueKey keyFor(ClusterMode mode, DType dtype, boolean scaled, float maxClustered) {
        if (mode.fast() && maxClustered <= FP16_MAX) {
            return ValueKey.fastRounded(mode.roundingPrecision());
        }
        if (!scaled && dtype == DType.F16) {
            return ValueKey.exact(ValueKey.Kind.FP16);
        }
        if (!scaled && dtype == DType.BF16) {
            return ValueKey.exact(ValueKey.Kind.BF16);
        }
        return ValueKey.exact(ValueKey.Kind.FP32);
    }

    /** Initial LUTs; groups marked exact hold all their distinct values and are left as they are. */
    private record Seeds(float[] lut, boolean[] exact) {
        static Seeds empty(int groups, int floatsPerGroup) {
            return new Seeds(new float[groups * floatsPerGroup], new boolean[groups]);
        }
    }

    /** Null when fast keys collapse the tensor ({@link FastModeCollapse}). */
    private Seeds optimalSeeds(TensorInput t, ClusterInput in, int lutSize, ValueKey key, TensorProgress progress) {
        GroupLayout layout = in.layout();
        Seeds seeds = Seeds.empty(layout.groups(), lutSize * layout.clusterDim());
        int groupsPerBatch = histogramBatch(layout, key);
        for (int from = 0; from < layout.groups(); from += groupsPerBatch) {
            int batchStart = from;
            int to = Math.min(layout.groups(), from + groupsPerBatch);
            WeightedValues[] hist = backend.histogram(in, key, from, to);
            if (key.kind() == ValueKey.Kind.FP16_ROUNDED && FastModeCollapse.collapsed(in, hist, from, lutSize)) {
                return null;
            }
            seedGroups(seeds, in, lutSize, from, to, g -> optimalSeed(t, in, lutSize, g, hist[g - batchStart]));
            progress.reach(SEEDED_SHARE * to / layout.groups());
        }
        return seeds;
    }

    /**
     * Groups whose histograms are built and clustered together: about {@link #HISTOGRAM_BATCH_ENTRIES}
     * distinct values at most, so that per-channel granularity never holds thousands of histograms.
     */
    private static int histogramBatch(GroupLayout layout, ValueKey key) {
        long entriesPerGroup = key.sixteenBit() ? Math.min(layout.vectorsPerGroup(), 65536) : layout.vectorsPerGroup();
        return (int) Math.clamp(HISTOGRAM_BATCH_ENTRIES / Math.max(1, entriesPerGroup), 1, layout.groups());
    }

    private static GroupSeed optimalSeed(TensorInput t, ClusterInput in, int lutSize, int g, WeightedValues h) {
        if (h.size() == 0) {
            throw new TensorDataException("tensor '" + t.name() + "': sensitivities are all zero in group " + g
                    + "; normalise them first (Sensitivities.normalize clips zeros to the smallest positive value)");
        }
        if (h.size() <= lutSize) {
            float[] exact = GroupScan.distinctAtMost(in, g, lutSize);
            if (exact != null) {
                return new GroupSeed(exact, true);
            }
        }
        double[] c = new OptimalKMeans1D(h.values(), h.weights()).centroids(lutSize);
        float[] lut = new float[c.length];
        for (int i = 0; i < c.length; i++) {
            lut[i] = (float) c[i];
        }
        return new GroupSeed(lut, false);
    }

    private Seeds kmeansPlusPlusSeeds(ClusterInput in, int lutSize) {
        int cd = in.layout().clusterDim();
        int sampleSize = Math.max(SAMPLE_MIN, SAMPLE_PER_ENTRY * lutSize);
        Seeds seeds = Seeds.empty(in.layout().groups(), lutSize * cd);
        seedGroups(seeds, in, lutSize, 0, in.layout().groups(), g -> {
            float[] exact = GroupScan.distinctAtMost(in, g, lutSize);
            if (exact != null) {
                return new GroupSeed(exact, true);
            }
            SplittableRandom random = new SplittableRandom(options.seed() + 0x9E3779B97F4A7C15L * (g + 1));
            GroupScan.Sample s = GroupScan.sample(in, g, sampleSize, random);
            float[] lut = KMeansPlusPlus.seed(s.points(), s.weights(), cd, lutSize, random);
            if (cd == 1) {
                Arrays.sort(lut);
            }
            return new GroupSeed(lut, false);
        });
        return seeds;
    }

    private record GroupSeed(float[] entries, boolean exact) {}

    private interface GroupSeeder {
        GroupSeed seed(int group);
    }

    /** Seeds groups {@code from..to-1} in parallel into {@code seeds}, LUTs laid out [group][entry][component], padded to lutSize. */
    private static void seedGroups(Seeds seeds, ClusterInput in, int lutSize, int from, int to, GroupSeeder seeder) {
        int cd = in.layout().clusterDim();
        List<ForkJoinTask<GroupSeed>> tasks = new ArrayList<>(to - from);
        for (int g = from; g < to; g++) {
            int group = g;
            tasks.add(ForkJoinTask.adapt(() -> seeder.seed(group)));
        }
        ForkJoinTask.invokeAll(tasks);
        float[] lut = seeds.lut();
        for (int g = from; g < to; g++) {
            GroupSeed s = tasks.get(g - from).join();
            seeds.exact()[g] = s.exact();
            int base = g * lutSize * cd;
            int filled = s.entries().length;
            System.arraycopy(s.entries(), 0, lut, base, filled);
            // Unused entries repeat the last one, so they never change which entry is nearest.
            for (int i = filled; i < lutSize * cd; i++) {
                lut[base + i] = lut[base + filled - cd + (i - filled) % cd];
            }
        }
    }

    /** Lloyd iterations on the exact values; exact groups keep their LUT. */
    private float[] refine(ClusterInput in, Seeds seeds, int lutSize, byte[] indices, TensorProgress progress) {
        int perGroup = lutSize * in.layout().clusterDim();
        float[] lut = seeds.lut();
        double previous = Double.POSITIVE_INFINITY;
        for (int it = 0; it < options.maxIterations(); it++) {
            double objective = backend.assign(in, lut, lutSize, indices).weightedSse();
            if (previous - objective <= options.tolerance() * objective) {
                break;
            }
            previous = objective;
            float[] next = backend.centroidSums(in, indices, lutSize).updatedLut(lut);
            for (int g = 0; g < seeds.exact().length; g++) {
                if (seeds.exact()[g]) {
                    System.arraycopy(lut, g * perGroup, next, g * perGroup, perGroup);
                } else if (in.layout().clusterDim() == 1) {
                    Arrays.sort(next, g * perGroup, (g + 1) * perGroup);
                }
            }
            if (Arrays.equals(next, lut)) {
                break;
            }
            lut = next;
            progress.reach(SEEDED_SHARE * (it + 1) / options.maxIterations());
        }
        return lut;
    }
}
