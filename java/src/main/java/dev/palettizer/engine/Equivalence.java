package dev.palettizer.engine;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.JavaBackend;
import dev.palettizer.model.DType;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.Floats;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.SegmentSource;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;

/**
 * The equivalence suite: palettizes generated tensors of every spec family with the Java reference
 * and with a candidate backend, and compares LUTs, indices, error and reconstruction. Used by the
 * backends' tests and by {@code palettizer selftest}.
 *
 * <p>Tolerances: a backend must give the reference's LUTs, indices and reconstruction exactly
 * (every kernel reproduces Java's float operations and its per-slice summation order); only the
 * reported squared error may differ, by the order of its final additions.
 */
public final class Equivalence {
    /** Largest |LUT difference| allowed (dequantized values). */
    public static final double LUT_TOLERANCE = 0;
    /** Index mismatches allowed. */
    public static final long INDEX_TOLERANCE = 0;
    /** Largest |difference| of the reconstructed (decompressed) values allowed. */
    public static final double RECONSTRUCTION_TOLERANCE = 0;
    /** Largest relative SSE difference allowed: the error's partial sums are added in another order. */
    public static final double SSE_TOLERANCE = 1e-9;

    private Equivalence() {}

    /**
     * One case: a generated tensor, a spec and engine options.
     *
     * @param weighted whether the tensor gets sensitivities
     */
    public record Family(String name, DType dtype, long[] shape, PalettizationSpec spec, EngineOptions options,
                         boolean weighted) {}

    /** One family's comparison; {@code error} is set (and the row fails) when the candidate threw. */
    public record Row(String family, double maxLutDiff, long indexMismatches, long indices, double sseRelDiff,
                      double maxReconstructionDiff, boolean pass, String error) {}

    // ---------------------------------------------------------------- the families

    private static final long[] LARGE = {203, 211};      // 42,833 values: dense histogram, odd size
    private static final long[] SMALL = {61, 67};        // 4,087 values: sorted histogram
    private static final long[] ROWS96 = {96, 77};       // groups of 1 and 32 output channels
    private static final long[] COLS96 = {77, 96};       // groups of 1 and 32 input channels
    private static final long[] VECTORS = {128, 93};     // cluster_dim 2 and 4
    private static final long[] MULTI_SLICE = {1031, 1031}; // over JavaBackend.SLICE values in one group
    private static final long[] RAGGED = {109, 77};      // groups of 32 output channels, the last of 13

    /** Every family of the suite, in table order. */
    public static List<Family> families() {
        EngineOptions fast = EngineOptions.defaults();
        EngineOptions exact = fast.withFastMode(false);
        EngineOptions lloyd = exact.withAlgorithm(Algorithm.KMEANS_PLUS_PLUS);
        PalettizationSpec base = PalettizationSpec.defaults();
        List<Family> out = new ArrayList<>();
        for (int bits : new int[] {1, 2, 3, 4, 6, 8}) {
            out.add(new Family("bits " + bits + ", per tensor, f32, fast", DType.F32, LARGE, base.withBits(bits), fast,
                    false));
        }
        out.add(new Family("per tensor, f32, fast, weighted", DType.F32, LARGE, base, fast, true));
        out.add(new Family("per tensor, f16, no-fast", DType.F16, LARGE, base, exact, false));
        out.add(new Family("per tensor, bf16, no-fast, weighted", DType.BF16, LARGE, base, exact, true));
        out.add(new Family("per tensor, bf16, fast", DType.BF16, LARGE, base.withBits(3), fast, false));
        out.add(new Family("per tensor, f32, no-fast (fp32 keys, host histogram)", DType.F32, LARGE, base, exact,
                false));
        out.add(new Family("per tensor small, f32, no-fast, weighted (fp32 keys)", DType.F32, SMALL, base, exact,
                true));
        out.add(new Family("per tensor small, f16, no-fast", DType.F16, SMALL, base.withBits(6), exact, false));
        out.add(new Family("per tensor, over one slice, fast, weighted", DType.F32, MULTI_SLICE, base, fast, true));
        for (int axis : new int[] {0, 1}) {
            long[] shape = axis == 0 ? ROWS96 : COLS96;
            for (int gs : new int[] {1, 32}) {
                PalettizationSpec grouped = base.withGranularity(Granularity.grouped(axis, gs));
                String g = "axis " + axis + " group " + gs;
                out.add(new Family(g + ", f32, fast", DType.F32, shape, grouped, fast, false));
                out.add(new Family(g + ", f32, no-fast, weighted", DType.F32, shape, grouped.withBits(2), exact, true));
                out.add(new Family(g + ", bf16, no-fast", DType.BF16, shape, grouped.withBits(3), exact, false));
            }
        }
        out.add(new Family("per-channel scale, per tensor, fast", DType.F32, LARGE, base.withPerChannelScale(true),
                fast, false));
        out.add(new Family("per-channel scale, per tensor, no-fast, weighted (host histogram)", DType.F16, LARGE,
                base.withPerChannelScale(true), exact, true));
        out.add(new Family("per-channel scale, axis 0 group 32, no-fast", DType.F32, ROWS96,
                base.withPerChannelScale(true).withGranularity(Granularity.grouped(0, 32)), exact, false));
        out.add(new Family("per-channel scale, axis 1 group 32, fast, weighted", DType.BF16, COLS96,
                base.withPerChannelScale(true).withGranularity(Granularity.grouped(1, 32)), fast, true));
        out.add(new Family("scalar k-means++/Lloyd, per tensor", DType.F32, SMALL, base, lloyd, false));
        out.add(new Family("scalar k-means++/Lloyd, axis 1 group 32, weighted", DType.F16, COLS96,
                base.withGranularity(Granularity.grouped(1, 32)), lloyd, true));
        for (int cd : new int[] {2, 4}) {
            PalettizationSpec vec = base.withClusterDim(cd);
            String v = "cluster_dim " + cd;
            out.add(new Family(v + ", per tensor", DType.F32, VECTORS, vec, lloyd, false));
            out.add(new Family(v + ", per tensor, 8 bits, weighted", DType.F16, VECTORS, vec.withBits(8), lloyd, true));
            out.add(new Family(v + ", axis 0 group 32, bf16", DType.BF16, VECTORS,
                    vec.withGranularity(Granularity.grouped(0, 32)), lloyd, false));
            out.add(new Family(v + ", axis 1 group 31, weighted", DType.F32, VECTORS,
                    vec.withBits(2).withGranularity(Granularity.grouped(1, 31)), lloyd, true));
            out.add(new Family(v + ", per-channel scale, weighted", DType.F32, VECTORS,
                    vec.withPerChannelScale(true), lloyd, true));
        }
        // A ragged last group reaches the backends as two plain runs (RaggedGroups); these check the joined result.
        PalettizationSpec ragged = base.withGranularity(Granularity.groupedRagged(32));
        out.add(new Family("ragged axis 0 group 32, f32, fast", DType.F32, RAGGED, ragged, fast, false));
        out.add(new Family("ragged axis 0 group 32, bf16, no-fast, weighted, per-channel scale", DType.BF16, RAGGED,
                ragged.withBits(3).withPerChannelScale(true), exact, true));
        out.add(new Family("ragged axis 0 group 32, LUT int8 symmetric", DType.F32, RAGGED,
                ragged.withLutQuant(new LutQuantSpec(LutDType.INT8, QScheme.SYMMETRIC)), fast, false));
        out.add(new Family("ragged axis 0 group 36, cluster_dim 4, weighted", DType.F32, VECTORS,
                base.withClusterDim(4).withGranularity(Granularity.groupedRagged(36)), lloyd, true));
        for (LutDType dtype : LutDType.values()) {
            for (QScheme scheme : dtype.isInteger() ? QScheme.values() : new QScheme[] {QScheme.SYMMETRIC}) {
                out.add(new Family("LUT " + dtype.cliName() + " " + scheme.cliName(), DType.F32, ROWS96,
                        base.withLutQuant(new LutQuantSpec(dtype, scheme)).withGranularity(Granularity.grouped(0, 32)),
                        fast, false));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- running

    /** Runs every family against the Java reference (on the same pool). */
    public static List<Row> run(Backend candidate, ForkJoinPool pool) {
        List<Row> rows = new ArrayList<>();
        try (JavaBackend reference = new JavaBackend(pool)) {
            for (Family f : families()) {
                rows.add(run(f, reference, candidate, pool));
            }
        }
        return rows;
    }

    public static Row run(Family f, Backend reference, Backend candidate, ForkJoinPool pool) {
        TensorInput input = tensor(f);
        PalettizedTensor want = palettize(reference, f, input, pool);
        PalettizedTensor got;
        float[] rebuilt;
        try {
            got = palettize(candidate, f, input, pool);
            rebuilt = reconstruct(candidate, got);
        } catch (RuntimeException e) {
            return new Row(f.name(), Double.NaN, -1, want.indexCount(), Double.NaN, Double.NaN, false, e.toString());
        }
        double lut = maxDiff(want.lut(), got.lut());
        long mismatches = mismatches(reference, want, got);
        double sse = Math.abs(got.error().sse() - want.error().sse()) / Math.max(want.error().sse(), Double.MIN_NORMAL);
        double recon = maxDiff(reconstruct(reference, want), rebuilt);
        boolean pass = lut <= LUT_TOLERANCE && mismatches <= INDEX_TOLERANCE && sse <= SSE_TOLERANCE
                && recon <= RECONSTRUCTION_TOLERANCE;
        return new Row(f.name(), lut, mismatches, want.indexCount(), sse, recon, pass, null);
    }

    private static PalettizedTensor palettize(Backend backend, Family f, TensorInput input, ForkJoinPool pool) {
        return switch (new TensorPalettizer(backend, f.options(), pool).palettize(input, f.spec())) {
            case Outcome.Palettized p -> p.tensor();
            case Outcome.Skipped s -> throw new IllegalStateException("family '" + f.name() + "' was skipped: "
                    + s.reason());
        };
    }

    private static float[] reconstruct(Backend backend, PalettizedTensor t) {
        GroupLayout layout = GroupLayout.of(t.shape(), t.spec()).layout().orElseThrow();
        byte[] indices = backend.unpack(t.packedIndices(), t.indexCount(), t.spec().nBits());
        return RaggedGroups.reconstruct(backend, layout, t.lut(), t.spec().lutSize(), indices, t.channelScales());
    }

    private static double maxDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            return Double.POSITIVE_INFINITY;
        }
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }

    /** Indices compared after unpacking with the reference (so packing differences count too). */
    private static long mismatches(Backend reference, PalettizedTensor want, PalettizedTensor got) {
        if (got.packedIndices().length != want.packedIndices().length) {
            return want.indexCount();
        }
        int bits = want.spec().nBits();
        byte[] a = reference.unpack(want.packedIndices(), want.indexCount(), bits);
        byte[] b = reference.unpack(got.packedIndices(), got.indexCount(), bits);
        long n = 0;
        for (int i = 0; i < a.length; i++) {
            n += a[i] != b[i] ? 1 : 0;
        }
        return n;
    }

    // ---------------------------------------------------------------- generated tensors

    /** Laplace(0, 0.02) weights (and squared-uniform sensitivities), seeded by the family's name, in its dtype. */
    static TensorInput tensor(Family f) {
        int n = Math.toIntExact(f.shape()[0] * f.shape()[1]);
        SplittableRandom random = new SplittableRandom(f.name().hashCode());
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) SyntheticModel.laplace(random, 0.02);
        }
        FloatSource sens = null;
        if (f.weighted()) {
            float[] s = new float[n];
            for (int i = 0; i < n; i++) {
                double u = random.nextDouble(1e-3, 1);
                s[i] = (float) (u * u);
            }
            sens = new FloatArraySource(s);
        }
        return new TensorInput(f.name(), f.dtype(), f.shape().clone(), source(values, f.dtype()), sens);
    }

    private static FloatSource source(float[] values, DType dtype) {
        if (dtype == DType.F32) {
            return new FloatArraySource(values);
        }
        short[] bits = new short[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = dtype == DType.F16 ? Float.floatToFloat16(values[i]) : Floats.toBf16(values[i]);
        }
        return new SegmentSource(MemorySegment.ofArray(bits), dtype);
    }

    // ---------------------------------------------------------------- the table

    /** A fixed-width table of the rows, with a last line counting passes. */
    public static String table(List<Row> rows) {
        int width = rows.stream().mapToInt(r -> r.family().length()).max().orElse(6);
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%-" + width + "s  %10s  %17s  %10s  %10s  %s%n",
                "family", "max|dLUT|", "index mismatches", "SSE rel", "max|dW|", "result"));
        for (Row r : rows) {
            out.append(String.format(Locale.ROOT, "%-" + width + "s  %10s  %17s  %10s  %10s  %s%n", r.family(),
                    number(r.maxLutDiff()), r.indexMismatches() + "/" + r.indices(), number(r.sseRelDiff()),
                    number(r.maxReconstructionDiff()), r.pass() ? "pass" : "FAIL" + (r.error() == null ? "" : ": " + r.error())));
        }
        long passed = rows.stream().filter(Row::pass).count();
        out.append(String.format(Locale.ROOT, "%d of %d families pass (tolerances: LUT %s, indices %d, SSE relative %s,"
                + " reconstruction %s)%n", passed, rows.size(), LUT_TOLERANCE, INDEX_TOLERANCE, SSE_TOLERANCE,
                RECONSTRUCTION_TOLERANCE));
        return out.toString();
    }

    private static String number(double v) {
        return v == 0 ? "0" : String.format(Locale.ROOT, "%.3g", v);
    }
}
