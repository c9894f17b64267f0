package dev.palettizer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.Palettizer;
import dev.palettizer.backend.JavaBackend;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A ragged last group against its reference: the full groups equal a plain grouped run on their
 * rows, the last group a per-tensor run on the remaining rows, bit for bit (LUTs, indices, scales,
 * error, reconstruction).
 */
class RaggedGroupsTest {
    private static final int ROWS = 50;
    private static final int COLS = 64;
    private static final int GROUP = 16;
    private static final int FULL_ROWS = 48;
    private static float[] matrix;
    private static ForkJoinPool pool;
    private static JavaBackend reference;

    @BeforeAll
    static void setUp() {
        matrix = Oracle.laplace(ROWS * COLS, 0.02, 7);
        // Rows of different magnitude, so per-channel scales and the tail's own LUT matter.
        for (int i = 0; i < matrix.length; i++) {
            matrix[i] *= 1 + (i / COLS) % 5;
        }
        pool = new ForkJoinPool(2);
        reference = new JavaBackend(pool);
    }

    @AfterAll
    static void tearDown() {
        pool.close();
    }

    record Case(String label, PalettizationSpec spec, EngineOptions options, boolean weighted) {
        @Override
        public String toString() {
            return label;
        }
    }

    static Stream<Case> cases() {
        PalettizationSpec base = PalettizationSpec.defaults().withGranularity(Granularity.groupedRagged(GROUP));
        EngineOptions fast = EngineOptions.defaults();
        EngineOptions exact = EngineOptions.defaults().withFastMode(false);
        return Stream.of(
                new Case("4-bit, fast", base, fast, false),
                new Case("3-bit, exact, scaled, weighted", base.withBits(3).withPerChannelScale(true), exact, true),
                new Case("2-bit vectors of 2 (k-means++)", base.withBits(2).withClusterDim(2), exact, false),
                new Case("6-bit vectors of 2, weighted", base.withBits(6).withClusterDim(2), exact, true));
    }

    private static TensorInput input(float[] w, float[] s, int from, int rows) {
        float[] v = Arrays.copyOfRange(w, from * COLS, (from + rows) * COLS);
        TensorInput t = TensorInput.of("w", v, rows, COLS);
        return s == null ? t : t.withSensitivities(new FloatArraySource(Arrays.copyOfRange(s, from * COLS, (from + rows) * COLS)));
    }

    private static byte[] indices(PalettizedTensor t) {
        return reference.unpack(t.packedIndices(), t.indexCount(), t.spec().nBits());
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void fullGroupsEqualAPlainRunAndTheLastGroupAPerTensorRun(Case c) {
        float[] s = c.weighted() ? Oracle.uniform(ROWS * COLS, 3) : null;
        try (Palettizer p = Palettizer.builder().workers(2).options(c.options()).build()) {
            PalettizedTensor whole = p.palettize(input(matrix, s, 0, ROWS), c.spec());
            PalettizedTensor full = p.palettize(input(matrix, s, 0, FULL_ROWS),
                    c.spec().withGranularity(Granularity.grouped(0, GROUP)));
            PalettizedTensor tail = p.palettize(input(matrix, s, FULL_ROWS, ROWS - FULL_ROWS),
                    c.spec().withGranularity(Granularity.perTensor()));

            assertEquals(c.spec(), whole.spec());
            assertArrayEquals(new long[] {ROWS, COLS}, whole.shape());
            assertEquals(4, whole.groups(), "ceil(50 / 16)");
            assertArrayEquals(concat(full.lut(), tail.lut()), whole.lut());
            byte[] joined = Arrays.copyOf(indices(full), (int) whole.indexCount());
            System.arraycopy(indices(tail), 0, joined, (int) full.indexCount(), (int) tail.indexCount());
            assertArrayEquals(joined, indices(whole));
            if (c.spec().perChannelScale()) {
                assertArrayEquals(concat(full.channelScales(), tail.channelScales()), whole.channelScales());
            } else {
                assertNull(whole.channelScales());
            }
            assertEquals(full.error().plus(tail.error()), whole.error());
            float[] rebuilt = p.reconstruct(whole);
            assertArrayEquals(concat(p.reconstruct(full), p.reconstruct(tail)), rebuilt);
            assertEquals(Oracle.sse(matrix, rebuilt, null), whole.error().sse(), 1e-6 * whole.error().sse());
        }
    }

    @Test
    void oneQuantizedLutServesEveryGroupAndIndicesPointAtTheNearestEntry() {
        LutQuantSpec q = new LutQuantSpec(LutDType.INT8, QScheme.SYMMETRIC);
        PalettizationSpec spec = PalettizationSpec.defaults().withBits(3)
                .withGranularity(Granularity.groupedRagged(GROUP)).withLutQuant(q);
        try (Palettizer p = Palettizer.builder().workers(2).build()) {
            PalettizedTensor t = p.palettize(TensorInput.of("w", matrix, ROWS, COLS), spec);
            assertEquals(4 * 8, t.quantizedLut().codes().length);
            float[] rebuilt = p.reconstruct(t);
            for (int i = 0; i < matrix.length; i++) {
                int group = i / COLS / GROUP;
                float best = Float.POSITIVE_INFINITY;
                for (int e = 0; e < 8; e++) {
                    best = Math.min(best, Math.abs(matrix[i] - t.lut()[group * 8 + e]));
                }
                assertEquals(best, Math.abs(matrix[i] - rebuilt[i]), 1e-7f, "element " + i);
            }
            assertEquals(Oracle.sse(matrix, rebuilt, null), t.error().sse(), 1e-6 * t.error().sse());
        }
    }

    @Test
    void fewerRowsThanTheGroupSizeArePalettizedAsOneGroup() {
        float[] w = Arrays.copyOf(matrix, 20 * COLS);
        try (Palettizer p = Palettizer.builder().workers(2).build()) {
            PalettizedTensor ragged = p.palettize(TensorInput.of("w", w, 20, COLS),
                    PalettizationSpec.defaults().withGranularity(Granularity.groupedRagged(32)));
            PalettizedTensor perTensor = p.palettize(TensorInput.of("w", w, 20, COLS), PalettizationSpec.defaults());
            assertEquals(1, ragged.groups());
            assertArrayEquals(perTensor.lut(), ragged.lut());
            assertArrayEquals(perTensor.packedIndices(), ragged.packedIndices());
            Outcome plain = p.palettizeTensor(TensorInput.of("w", w, 20, COLS),
                    PalettizationSpec.defaults().withGranularity(Granularity.grouped(0, 32)));
            assertInstanceOf(Outcome.Skipped.class, plain, "without the opt-in the tensor stays as it is");
        }
    }

    @Test
    void aBadElementInTheLastGroupIsReportedAtItsPlaceInTheTensor() {
        float[] w = matrix.clone();
        w[49 * COLS + 3] = Float.NaN;
        try (Palettizer p = Palettizer.builder().workers(2).build()) {
            TensorDataException e = assertThrows(TensorDataException.class, () -> p.palettize(
                    TensorInput.of("emb.weight", w, ROWS, COLS),
                    PalettizationSpec.defaults().withGranularity(Granularity.groupedRagged(GROUP))));
            assertTrue(e.getMessage().contains("emb.weight") && e.getMessage().contains("element " + (49 * COLS + 3))
                    && e.getMessage().contains("[49, 3]"), e.getMessage());
        }
    }
}
