package dev.palettizer.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Named.named;

import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each device kernel against {@link JavaBackend} on the same inputs, with a generous device budget
 * and with a 4 KiB one that forces chunks of positions and batches of groups; a device backend's
 * test extends this with its {@link #create} (OpenClKernelTest, CudaKernelTest). Tolerance: none
 * for histograms, indices, centroid sums, packed bytes and reconstructions (the kernels reproduce
 * Java's arithmetic and summation order); relative {@value #ERROR_TOLERANCE} for the error
 * statistics, whose partial sums are added in another order.
 */
public abstract class BackendKernelContract {
    public static final double ERROR_TOLERANCE = 1e-12;
    protected static final long LARGE_BUDGET = 64L << 20;
    protected static final long TINY_BUDGET = 4096;
    private static final String LARGE = "64 MiB budget";
    private static final String TINY = "4 KiB budget";

    private static ForkJoinPool pool;
    private static JavaBackend java;
    private static final Map<String, Backend> BACKENDS = new HashMap<>();

    /** The backend under test with a device budget of {@code budgetBytes}; skips the test (an assumption) where it cannot run. */
    protected abstract Backend create(ForkJoinPool pool, long budgetBytes);

    /** The backend's count of bytes copied from the device to the host so far. */
    protected abstract long bytesDownloaded(Backend b);

    @BeforeAll
    static void startPool() {
        pool = new ForkJoinPool(2);
        java = new JavaBackend(pool);
    }

    /** The backend for a case's budget label, made on first use and closed after the class. */
    private Backend backend(String budget) {
        return BACKENDS.computeIfAbsent(budget, b -> create(pool, b.equals(LARGE) ? LARGE_BUDGET : TINY_BUDGET));
    }

    @AfterAll
    static void tearDown() {
        BACKENDS.values().forEach(Backend::close);
        BACKENDS.clear();
        if (pool != null) {
            pool.close();
        }
    }

    private static List<Arguments> withBackends(List<Arguments> cases) {
        List<Arguments> out = new ArrayList<>();
        for (String label : new String[] {LARGE, TINY}) {
            for (Arguments a : cases) {
                Object[] args = new Object[a.get().length + 1];
                args[0] = label;
                System.arraycopy(a.get(), 0, args, 1, a.get().length);
                out.add(Arguments.of(args));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- inputs

    /** A shape and spec; the layout says which groups and vectors the kernels walk. */
    public record Shape(String name, long[] dims, PalettizationSpec spec) {
        GroupLayout layout() {
            return GroupLayout.of(dims, spec).layout().orElseThrow();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static Shape shape(String name, PalettizationSpec spec, long... dims) {
        return new Shape(name, dims, spec);
    }

    private static final PalettizationSpec SCALAR = PalettizationSpec.defaults();

    static List<Shape> scalarShapes() {
        return List.of(
                shape("per tensor 203x211 (dense histogram)", SCALAR, 203, 211),
                shape("per tensor 61x67 (sorted histogram)", SCALAR, 61, 67),
                shape("axis 0 group 1", SCALAR.withGranularity(Granularity.grouped(0, 1)), 96, 77),
                shape("axis 0 group 32", SCALAR.withGranularity(Granularity.grouped(0, 32)), 96, 77),
                shape("axis 1 group 1", SCALAR.withGranularity(Granularity.grouped(1, 1)), 77, 96),
                shape("axis 1 group 32", SCALAR.withGranularity(Granularity.grouped(1, 32)), 77, 96),
                shape("3-D axis 1 group 2", SCALAR.withGranularity(Granularity.grouped(1, 2)), 12, 10, 7),
                shape("axis 0 group 180 (dense histogram per group)",
                        SCALAR.withGranularity(Granularity.grouped(0, 180)), 360, 197));
    }

    static List<Shape> vectorShapes() {
        return List.of(
                shape("cd 4 per tensor", SCALAR.withClusterDim(4), 128, 93),
                shape("cd 2 axis 0 group 32", SCALAR.withClusterDim(2).withGranularity(Granularity.grouped(0, 32)), 128,
                        93),
                shape("cd 4 axis 1 group 31", SCALAR.withClusterDim(4).withGranularity(Granularity.grouped(1, 31)), 128,
                        93),
                shape("cd 2 3-D axis 1 group 3", SCALAR.withClusterDim(2).withGranularity(Granularity.grouped(1, 3)), 16, 6,
                        5));
    }

    private static float[] laplace(long n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            double u = r.nextDouble() - 0.5;
            v[i] = (float) (-0.02 * Math.signum(u) * Math.log(1 - 2 * Math.abs(u)));
        }
        return v;
    }

    private static ClusterInput input(Shape s, boolean weighted, boolean scaled, long seed) {
        GroupLayout l = s.layout();
        float[] values = laplace(l.elementCount(), seed);
        float[] sens = null;
        if (weighted) {
            SplittableRandom r = new SplittableRandom(seed + 1);
            sens = new float[values.length];
            for (int i = 0; i < sens.length; i++) {
                sens[i] = (float) Math.pow(r.nextDouble(), 3);
            }
            sens[0] = 0;                 // zero weights are dropped from histograms
        }
        float[] scales = null;
        if (scaled) {
            scales = new float[(int) l.rows()];
            long rs = l.rowStride();
            for (int row = 0; row < scales.length; row++) {
                float max = 0;
                for (long o = 0; o < rs; o++) {
                    max = Math.max(max, Math.abs(values[(int) (row * rs + o)]));
                }
                scales[row] = max == 0 ? 1 : max;
            }
        }
        return new ClusterInput(new FloatArraySource(values), sens == null ? null : new FloatArraySource(sens), l, scales);
    }

    // ---------------------------------------------------------------- histogram

    /**
     * Dense histograms leave the device compacted (issue 16): the bytes a grouped call copies back are
     * at most twice its distinct values at 12 bytes each (a float value and a double weight), where
     * the full tables would be 65,536 doubles per group; with fast mode's rounding, to fold.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("denseKeys")
    public void denseHistogramsCopyBackOnlyTheirDistinctValues(ValueKey key) {
        Shape s = shape("axis 0 group 180, 4 groups", SCALAR.withGranularity(Granularity.grouped(0, 180)), 720, 197);
        ClusterInput in = input(s, true, false, 61);
        int groups = in.layout().groups();
        Backend b = backend(LARGE);
        long before = bytesDownloaded(b);
        WeightedValues[] got = b.histogram(in, key, 0, groups);
        long copied = bytesDownloaded(b) - before;
        assertSameHistograms(java.histogram(in, key, 0, groups), got);
        long bins = Arrays.stream(got).mapToLong(h -> h.values().length).sum();
        assertTrue(copied > 0 && copied <= 2 * 12 * bins, copied + " bytes copied back for " + bins + " distinct values");
    }

    static Stream<ValueKey> denseKeys() {
        return Stream.of(ValueKey.fastRounded(4), ValueKey.fastRounded(2), ValueKey.exact(ValueKey.Kind.FP16),
                ValueKey.exact(ValueKey.Kind.BF16));
    }

    static Stream<Arguments> histogramCases() {
        List<Arguments> cases = new ArrayList<>();
        ValueKey[] keys = {ValueKey.fastRounded(4), ValueKey.exact(ValueKey.Kind.FP16), ValueKey.exact(ValueKey.Kind.BF16),
            ValueKey.exact(ValueKey.Kind.FP32)};
        for (Shape s : scalarShapes()) {
            for (ValueKey key : keys) {
                for (int variant = 0; variant < 3; variant++) {
                    cases.add(Arguments.of(s, key, variant == 1, variant == 2));
                }
            }
        }
        return withBackends(cases).stream();
    }

    @ParameterizedTest(name = "{0}: {1}, {2}, weighted {3}, scaled {4}")
    @MethodSource("histogramCases")
    public void histogramEqualsJava(String budget, Shape s, ValueKey key, boolean weighted, boolean scaled) {
        Backend b = backend(budget);
        ClusterInput in = input(s, weighted, scaled, 11);
        assertSameHistograms(java.histogram(in, key, 0, in.layout().groups()), b.histogram(in, key, 0, in.layout().groups()));
    }

    private static void assertSameHistograms(WeightedValues[] want, WeightedValues[] got) {
        assertEquals(want.length, got.length, "groups");
        for (int g = 0; g < want.length; g++) {
            assertArrayEquals(want[g].values(), got[g].values(), "values of group " + g);
            assertArrayEquals(want[g].weights(), got[g].weights(), "weights of group " + g);
        }
    }

    /** Random float bit patterns across every exponent: exercises the fp16 and bf16 roundings, subnormals and overflow. */
    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("conversionCases")
    public void sixteenBitPatternsEqualJavasConversions(String budget, ValueKey key, long[] dims) {
        Backend b = backend(budget);
        SplittableRandom r = new SplittableRandom(5);
        int n = (int) (dims[0] * dims[1]);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            int exponent = r.nextInt(95, 150);   // 2^-32 .. 2^22: fp16 zero, subnormal, normal and overflow
            int bits = (r.nextBoolean() ? 0x80000000 : 0) | exponent << 23 | r.nextInt(1 << 23);
            v[i] = Float.intBitsToFloat(bits);
        }
        float[] edges = {65504f, 65519.996f, 65520f, Math.nextUp(65520f), 0x1p-14f, Math.nextDown(0x1p-14f), 0x1p-24f,
            0x1p-25f, Math.nextUp(0x1p-25f), 0x1.8p-25f, 0x1.8p-24f, 0x1.4p-24f, -0.0f, 0.0f, 0x1.002p0f, 0x1.006p0f,
            0x1.0080p0f, 0x1.0180p0f, Float.MIN_VALUE, -Float.MIN_VALUE, 3.0e38f};
        System.arraycopy(edges, 0, v, 0, edges.length);
        GroupLayout l = GroupLayout.of(dims, SCALAR).layout().orElseThrow();
        ClusterInput in = new ClusterInput(new FloatArraySource(v), null, l, null);
        assertSameHistograms(java.histogram(in, key, 0, in.layout().groups()), b.histogram(in, key, 0, in.layout().groups()));
    }

    static Stream<Arguments> conversionCases() {
        List<Arguments> cases = new ArrayList<>();
        for (ValueKey key : new ValueKey[] {ValueKey.exact(ValueKey.Kind.FP16), ValueKey.exact(ValueKey.Kind.BF16)}) {
            cases.add(Arguments.of(key, new long[] {401, 419}));   // dense
            cases.add(Arguments.of(key, new long[] {97, 101}));    // sorted
        }
        return withBackends(cases).stream();
    }

    // ---------------------------------------------------------------- assignment and centroid sums

    static Stream<Arguments> clusterCases() {
        List<Arguments> cases = new ArrayList<>();
        List<Shape> shapes = new ArrayList<>(scalarShapes());
        shapes.addAll(vectorShapes());
        for (Shape s : shapes) {
            for (int bits : new int[] {1, 3, 8}) {
                for (int variant = 0; variant < 3; variant++) {
                    cases.add(Arguments.of(s, bits, variant == 1, variant == 2));
                }
            }
        }
        return withBackends(cases).stream();
    }

    /**
     * Per group, lutSize entries drawn from the group's own values (sorted for scalars), with the
     * second entry repeating the first so that ties between equal entries are exercised.
     */
    private static float[] lut(ClusterInput in, int lutSize, long seed) {
        GroupLayout l = in.layout();
        int cd = l.clusterDim();
        float[] values = new float[(int) l.elementCount()];
        in.values().read(0, values, 0, values.length);
        SplittableRandom r = new SplittableRandom(seed);
        float[] lut = new float[l.groups() * lutSize * cd];
        for (int g = 0; g < l.groups(); g++) {
            for (int k = 0; k < lutSize; k++) {
                for (int t = 0; t < cd; t++) {
                    float v = values[r.nextInt(values.length)];
                    lut[(g * lutSize + k) * cd + t] = in.channelScales() == null ? v : v / 0.05f;
                }
            }
            if (lutSize > 2) {
                System.arraycopy(lut, g * lutSize * cd, lut, (g * lutSize + 1) * cd, cd);
            }
            if (cd == 1) {
                Arrays.sort(lut, g * lutSize, (g + 1) * lutSize);
            }
        }
        return lut;
    }

    @ParameterizedTest(name = "{0}: {1}, {2} bits, weighted {3}, scaled {4}")
    @MethodSource("clusterCases")
    public void assignEqualsJava(String budget, Shape s, int bits, boolean weighted, boolean scaled) {
        Backend b = backend(budget);
        ClusterInput in = input(s, weighted, scaled, 21);
        int lutSize = 1 << bits;
        float[] lut = lut(in, lutSize, 22);
        if (s.layout().clusterDim() == 1 && in.channelScales() == null) {
            placeOnMidpoints(in, lut, lutSize);
        }
        byte[] want = new byte[(int) s.layout().vectorCount()];
        byte[] got = new byte[want.length];
        ErrorStats we = java.assign(in, lut, lutSize, want);
        ErrorStats ge = b.assign(in, lut, lutSize, got);
        assertArrayEquals(want, got, "indices");
        assertEquals(we.count(), ge.count());
        assertEquals(we.sse(), ge.sse(), ERROR_TOLERANCE * we.sse(), "sse");
        assertEquals(we.weightedSse(), ge.weightedSse(), ERROR_TOLERANCE * we.weightedSse(), "weighted sse");
        assertEquals(we.signalEnergy(), ge.signalEnergy(), ERROR_TOLERANCE * we.signalEnergy(), "energy");
    }

    /** Moves some values of group 0 exactly onto its midpoints, where ">" decides the tie for the lower entry. */
    private static void placeOnMidpoints(ClusterInput in, float[] lut, int lutSize) {
        float[] values = ((FloatArraySource) in.values()).values();
        GroupLayout l = in.layout();
        long rs = l.rowStride();
        int placed = 0;
        for (int e = 0; e < values.length && placed < lutSize - 1; e += 7) {
            if (l.groupOf(e / rs, e % rs) == 0) {
                values[e] = (lut[placed] + lut[placed + 1]) * 0.5f;
                placed++;
            }
        }
    }

    @ParameterizedTest(name = "{0}: {1}, {2} bits, weighted {3}, scaled {4}")
    @MethodSource("clusterCases")
    public void centroidSumsEqualJava(String budget, Shape s, int bits, boolean weighted, boolean scaled) {
        Backend b = backend(budget);
        ClusterInput in = input(s, weighted, scaled, 31);
        int lutSize = 1 << bits;
        byte[] indices = new byte[(int) s.layout().vectorCount()];
        java.assign(in, lut(in, lutSize, 32), lutSize, indices);
        CentroidSums want = java.centroidSums(in, indices, lutSize);
        CentroidSums got = b.centroidSums(in, indices, lutSize);
        assertArrayEquals(want.sums(), got.sums(), "sums");
        assertArrayEquals(want.weights(), got.weights(), "weights");
    }

    /**
     * A group of more than {@link JavaBackend#SLICE} values: Java sums per slice and then over the
     * slices; the device keeps one accumulator per slice across chunks and must give the same doubles.
     */
    @Test
    public void groupsLargerThanOneSliceSumLikeJava() {
        Shape s = shape("per tensor 1031x1031", SCALAR, 1031, 1031);
        ClusterInput in = input(s, true, true, 41);
        Backend large = backend(LARGE);
        try (Backend mid = create(pool, 1 << 20)) {
            for (Backend b : new Backend[] {large, mid}) {
                assertSameHistograms(java.histogram(in, ValueKey.fastRounded(4), 0, in.layout().groups()), b.histogram(in, ValueKey.fastRounded(4), 0, in.layout().groups()));
                byte[] indices = new byte[(int) s.layout().vectorCount()];
                java.assign(in, lut(in, 16, 42), 16, indices);
                CentroidSums want = java.centroidSums(in, indices, 16);
                CentroidSums got = b.centroidSums(in, indices, 16);
                assertArrayEquals(want.sums(), got.sums(), b == large ? "one chunk" : "chunked");
                assertArrayEquals(want.weights(), got.weights());
            }
        }
    }

    /** Values that fail to read past element {@code failFrom}, as a truncated or vanished file would. */
    private record FailingSource(FloatSource values, long failFrom) implements FloatSource {
        static final String MESSAGE = "injected read failure";

        @Override
        public long size() {
            return values.size();
        }

        @Override
        public void read(long offset, float[] dst, int dstOff, int len) {
            if (offset + len > failFrom) {
                throw new IllegalStateException(MESSAGE + " at element " + offset);
            }
            values.read(offset, dst, dstOff, len);
        }
    }

    private static boolean injected(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null && c.getMessage().contains(FailingSource.MESSAGE)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A call that fails halfway through a tensor (chunks still in flight on the device) must leave
     * nothing running that writes into the accumulators the next call reuses: the next calls'
     * histograms and centroid sums are Java's bits.
     */
    @Test
    public void aCallThatFailsMidwayLeavesTheNextCallsExact() {
        Shape s = shape("per tensor 203x211 (dense histogram)", SCALAR, 203, 211);
        ClusterInput good = input(s, true, false, 51);
        ClusterInput bad = new ClusterInput(new FailingSource(good.values(), good.values().size() / 2),
                good.sensitivities(), good.layout(), null);
        int lutSize = 16;
        byte[] indices = new byte[(int) s.layout().vectorCount()];
        java.assign(good, lut(good, lutSize, 52), lutSize, indices);
        ValueKey key = ValueKey.exact(ValueKey.Kind.FP16);
        WeightedValues[] wantHistogram = java.histogram(good, key, 0, 1);
        CentroidSums wantSums = java.centroidSums(good, indices, lutSize);
        try (Backend mid = create(pool, 64 << 10)) {
            for (Backend b : new Backend[] {backend(TINY), mid}) {
                RuntimeException h = assertThrows(RuntimeException.class, () -> b.histogram(bad, key, 0, 1));
                assertTrue(injected(h), () -> "not the injected failure: " + h);
                assertSameHistograms(wantHistogram, b.histogram(good, key, 0, 1));
                RuntimeException c = assertThrows(RuntimeException.class, () -> b.centroidSums(bad, indices, lutSize));
                assertTrue(injected(c), () -> "not the injected failure: " + c);
                CentroidSums got = b.centroidSums(good, indices, lutSize);
                assertArrayEquals(wantSums.sums(), got.sums(), "sums after a failed call");
                assertArrayEquals(wantSums.weights(), got.weights(), "weights after a failed call");
            }
        }
    }

    // ---------------------------------------------------------------- packing and reconstruction

    static Stream<Arguments> packCases() {
        List<Arguments> cases = new ArrayList<>();
        for (int bits = 1; bits <= 8; bits++) {
            for (int count : new int[] {1, 7, 8, 9, 1000, 4099, 20011}) {
                cases.add(Arguments.of(bits, count));
            }
        }
        return withBackends(cases).stream();
    }

    @ParameterizedTest(name = "{0}: {1} bits, {2} indices")
    @MethodSource("packCases")
    public void packAndUnpackEqualJava(String budget, int bits, int count) {
        Backend b = backend(budget);
        SplittableRandom r = new SplittableRandom(bits * 31L + count);
        byte[] indices = new byte[count];
        for (int i = 0; i < count; i++) {
            indices[i] = (byte) r.nextInt(1 << bits);
        }
        byte[] packed = b.pack(indices, count, bits);
        assertArrayEquals(java.pack(indices, count, bits), packed, "packed bytes");
        assertArrayEquals(indices, b.unpack(packed, count, bits), "unpacked");
    }

    @Test
    public void unpackRejectsAWrongLength() {
        Backend b = backend(LARGE);
        assertThrows(IllegalArgumentException.class, () -> b.unpack(new byte[3], 10, 4));
    }

    static Stream<Arguments> reconstructCases() {
        List<Arguments> cases = new ArrayList<>();
        List<Shape> shapes = new ArrayList<>(scalarShapes());
        shapes.addAll(vectorShapes());
        for (Shape s : shapes) {
            cases.add(Arguments.of(s, false));
            cases.add(Arguments.of(s, true));
        }
        return withBackends(cases).stream();
    }

    @ParameterizedTest(name = "{0}: {1}, scaled {2}")
    @MethodSource("reconstructCases")
    public void reconstructEqualsJava(String budget, Shape s, boolean scaled) {
        Backend b = backend(budget);
        ClusterInput in = input(s, false, scaled, 51);
        int lutSize = 16;
        float[] lut = lut(in, lutSize, 52);
        SplittableRandom r = new SplittableRandom(53);
        byte[] indices = new byte[(int) s.layout().vectorCount()];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = (byte) r.nextInt(lutSize);
        }
        assertArrayEquals(java.reconstruct(s.layout(), lut, lutSize, indices, in.channelScales()),
                b.reconstruct(s.layout(), lut, lutSize, indices, in.channelScales()));
    }

    /** Into a caller's buffer: every element overwritten (it starts as NaN), the same floats as Java's. */
    @ParameterizedTest(name = "{0}: {1}, scaled {2}")
    @MethodSource("reconstructCases")
    public void reconstructIntoABufferEqualsJava(String budget, Shape s, boolean scaled) {
        Backend b = backend(budget);
        ClusterInput in = input(s, false, scaled, 54);
        int lutSize = 16;
        float[] lut = lut(in, lutSize, 55);
        SplittableRandom r = new SplittableRandom(56);
        byte[] indices = new byte[(int) s.layout().vectorCount()];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = (byte) r.nextInt(lutSize);
        }
        float[] out = new float[(int) s.layout().elementCount()];
        Arrays.fill(out, Float.NaN);
        b.reconstruct(s.layout(), lut, lutSize, indices, in.channelScales(), out);
        assertArrayEquals(java.reconstruct(s.layout(), lut, lutSize, indices, in.channelScales()), out);
        float[] wrong = new float[out.length + 1];
        assertThrows(IllegalArgumentException.class,
                () -> b.reconstruct(s.layout(), lut, lutSize, indices, in.channelScales(), wrong));
    }
}
