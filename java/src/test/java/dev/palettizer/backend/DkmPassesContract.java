package dev.palettizer.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.DkmPasses.ValueKeys;
import dev.palettizer.model.DType;
import dev.palettizer.spec.DkmMode;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each DKM kernel against {@link JavaDkmPasses} on random data, over layouts with one and several
 * partitions (an uneven last one included), cluster_dim 1 and 2, and the dkm, gsm and hard modes with and
 * without keep-sparsity and prune. A device backend's test extends this with its {@link #passes()}.
 *
 * <p>Tolerances: the per-value passes (counts, sums by value, both gathers) must give Java's bits: the
 * kernels walk Java's blocks in Java's order and do the same float arithmetic. The per-point passes sum
 * in another order (binary trees over tiles of points, then tiles in order) and take exp and log from the
 * device's library: reduced sums within {@value #SUM_TOLERANCE} of the largest |reference| of the array
 * (at least 1), per-element float outputs within {@value #ELEMENT_TOLERANCE} relative (at least 1).
 */
public abstract class DkmPassesContract {
    public static final double SUM_TOLERANCE = 1e-9;
    public static final double ELEMENT_TOLERANCE = 1e-6;

    private static JavaDkmPasses reference;

    /** The passes under test; skips the test (an assumption) where they cannot run. */
    protected abstract DkmPasses passes();

    @BeforeAll
    static void startJava() {
        reference = new JavaDkmPasses(2);
    }

    @AfterAll
    static void stopJava() {
        reference.close();
    }

    /** elements, inner, axis, dim, partition channels. */
    static Stream<DkmLayout> layouts() {
        return Stream.of(
                new DkmLayout(64 * 300, 300, 64, 1, 64),     // one partition, 75 tiles of 256
                new DkmLayout(3 * 48 * 70, 70, 48, 1, 16),   // three partitions, three outer blocks
                new DkmLayout(50 * 20, 20, 50, 1, 16),       // partitions of 16, 16, 16 and 2 channels
                new DkmLayout(2 * 40 * 33, 33, 40, 2, 8),    // cluster_dim 2, five partitions
                new DkmLayout(5 * 30 * 7, 7, 30, 2, 100));   // cluster_dim 2, the partition larger than the axis
    }

    static Stream<Arguments> cases() {
        List<DkmParams> params = List.of(
                new DkmParams(4, 1, DkmMode.DKM, 1e-2, 0, false, 0),
                new DkmParams(16, 1, DkmMode.GSM, 3e-3, 0, false, DkmPointMath.noiseKey(7, 2, 1)),
                new DkmParams(8, 1, DkmMode.HARD, 1e-2, 0, false, 0),
                new DkmParams(8, 1, DkmMode.DKM, 5e-3, 0, true, 0),
                new DkmParams(4, 1, DkmMode.DKM, 1e-2, 0.02, false, 0));
        return layouts().flatMap(l -> params.stream().map(p -> Arguments.of(l,
                new DkmParams(p.k(), l.dim(), p.mode(), p.tau(), p.prune(), p.keepSparsity(), p.noiseKey()))));
    }

    /** Gaussian values rounded to fp16, a tenth of them exact zeros. */
    static float[] values(long n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[(int) n];
        for (int i = 0; i < n; i++) {
            w[i] = r.nextInt(10) == 0 ? 0f : Float.float16ToFloat(Float.floatToFloat16((float) (0.1 * r.nextGaussian())));
        }
        return w;
    }

    static double[] table(int n, double scale, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            t[i] = scale * r.nextGaussian();
        }
        return t;
    }

    static boolean[] active(int partitions, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        boolean[] a = new boolean[partitions];
        for (int i = 0; i < partitions; i++) {
            a[i] = partitions == 1 || r.nextInt(4) != 0;
        }
        return a;
    }

    static void assertSums(double[] expected, double[] actual, int count, String what) {
        double scale = 1;
        for (int i = 0; i < count; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        for (int i = 0; i < count; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            if (!(err <= SUM_TOLERANCE * scale)) {
                throw new AssertionError(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]
                        + " (tolerance " + SUM_TOLERANCE * scale + ")");
            }
        }
    }

    static void assertElements(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs((double) expected[i] - actual[i]);
            if (!(err <= ELEMENT_TOLERANCE * Math.max(1, Math.abs(expected[i])))) {
                throw new AssertionError(what + "[" + i + "]: expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void attentionSumsMatchJava(DkmLayout l, DkmParams p) {
        float[] w = values(l.elements(), 1);
        int partitions = l.partitions();
        double[] c = table(partitions * p.lutStride(), 0.1, 2);
        boolean[] active = active(partitions, 3);
        int width = DkmPasses.sumsWidth(p) * partitions;
        double[] expected = new double[width];
        double[] actual = new double[width];
        reference.attentionSums(DkmData.of(w), l, p, c, active, expected);
        passes().attentionSums(DkmData.of(w), l, p, c, active, actual);
        assertSums(expected, actual, width, "attentionSums");
    }

    @ParameterizedTest
    @MethodSource("cases")
    void attentionApplyMatchesJava(DkmLayout l, DkmParams p) {
        float[] w = values(l.elements(), 4);
        int partitions = l.partitions();
        double[] cIn = table(partitions * p.lutStride(), 0.1, 5);
        double[] cOut = table(partitions * p.lutStride(), 0.1, 6);
        boolean[] active = active(partitions, 7);
        float[] expected = values(l.elements(), 8);
        float[] actual = expected.clone();
        reference.attentionApply(DkmData.of(w), DkmData.of(expected), l, p, cIn, cOut, active);
        passes().attentionApply(DkmData.of(w), DkmData.of(actual), l, p, cIn, cOut, active);
        assertElements(expected, actual, "attentionApply");
    }

    @ParameterizedTest
    @MethodSource("cases")
    void attentionGradientSumsMatchJava(DkmLayout l, DkmParams p) {
        float[] w = values(l.elements(), 9);
        float[] g = values(l.elements(), 10);
        int partitions = l.partitions();
        double[] c = table(partitions * p.lutStride(), 0.1, 11);
        boolean[] active = active(partitions, 12);
        int width = p.lutStride() * partitions;
        double[] expected = new double[width];
        double[] actual = new double[width];
        reference.attentionGradientSums(DkmData.of(w), DkmData.of(g), l, p, c, active, expected);
        passes().attentionGradientSums(DkmData.of(w), DkmData.of(g), l, p, c, active, actual);
        assertSums(expected, actual, width, "attentionGradientSums");
    }

    @ParameterizedTest
    @MethodSource("cases")
    void backwardIterationMatchesJava(DkmLayout l, DkmParams p) {
        float[] w = values(l.elements(), 13);
        float[] g = values(l.elements(), 14);
        int partitions = l.partitions();
        double[] cIn = table(partitions * p.lutStride(), 0.1, 15);
        double[] cOut = table(partitions * p.lutStride(), 0.1, 16);
        double[] e = table(partitions * p.lutStride(), 1, 17);
        double[] f = table(partitions * p.k(), 1, 18);
        byte[] role = new byte[partitions];
        for (int i = 0; i < partitions; i++) {
            role[i] = (byte) (partitions == 1 ? 2 : i % 3);
        }
        for (boolean accumulate : new boolean[] {false, true}) {
            float[] expected = values(l.elements(), 19);
            float[] actual = expected.clone();
            int width = p.lutStride() * partitions;
            double[] gcExpected = new double[width];
            double[] gcActual = new double[width];
            reference.backwardIteration(DkmData.of(w), DkmData.of(g), DkmData.of(expected), accumulate, l, p, cIn, cOut, e, f, role,
                    gcExpected);
            passes().backwardIteration(DkmData.of(w), DkmData.of(g), DkmData.of(actual), accumulate, l, p, cIn, cOut, e, f, role,
                    gcActual);
            assertElements(expected, actual, "backwardIteration gradIn (accumulate " + accumulate + ")");
            assertSums(gcExpected, gcActual, width, "backwardIteration dL/dC_in (accumulate " + accumulate + ")");
        }
    }

    static Stream<DkmLayout> scalarLayouts() {
        return layouts().filter(l -> l.dim() == 1);
    }

    @ParameterizedTest
    @MethodSource("scalarLayouts")
    void perValuePassesGiveJavasBits(DkmLayout l) {
        float[] w = values(l.elements(), 20);
        float[] g = values(l.elements(), 21);
        int slots = 65536 * l.partitions();
        for (ValueKeys keys : ValueKeys.values()) {
            float[] wk = w.clone();
            if (keys == ValueKeys.BF16) {
                for (int i = 0; i < wk.length; i++) {
                    wk[i] = Float.intBitsToFloat(Float.floatToRawIntBits(wk[i]) & 0xffff0000);
                }
            }
            double[] expected = new double[slots];
            double[] actual = new double[slots];
            assertTrue(reference.countValues(DkmData.of(wk), l, keys, expected));
            assertTrue(passes().countValues(DkmData.of(wk), l, keys, actual));
            assertArrayEquals(expected, actual, "countValues " + keys);
            reference.sumByValue(DkmData.of(wk), DkmData.of(g), l, keys, expected);
            passes().sumByValue(DkmData.of(wk), DkmData.of(g), l, keys, actual);
            assertArrayEquals(expected, actual, "sumByValue " + keys);

            SplittableRandom r = new SplittableRandom(22);
            float[] a = new float[slots];
            float[] b = new float[slots];
            for (int i = 0; i < slots; i++) {
                a[i] = (float) r.nextGaussian();
                b[i] = (float) r.nextGaussian();
            }
            float[] outExpected = new float[wk.length];
            float[] outActual = new float[wk.length];
            reference.gatherByValue(DkmData.of(wk), DkmData.of(outExpected), l, keys, a);
            passes().gatherByValue(DkmData.of(wk), DkmData.of(outActual), l, keys, a);
            assertArrayEquals(outExpected, outActual, "gatherByValue " + keys);
            reference.gatherGradientByValue(DkmData.of(wk), DkmData.of(g), DkmData.of(outExpected), l, keys, a, b);
            passes().gatherGradientByValue(DkmData.of(wk), DkmData.of(g), DkmData.of(outActual), l, keys, a, b);
            assertArrayEquals(outExpected, outActual, "gatherGradientByValue " + keys);
        }
    }

    @Test
    void countValuesFailsOnAValueWithoutAKey() {
        DkmLayout l = new DkmLayout(10_000, 100, 100, 1, 100);
        float[] w = values(l.elements(), 23);
        w[7777] = 0.1f; // not an fp16 value
        assertFalse(passes().countValues(DkmData.of(w), l, ValueKeys.F16, new double[65536]));
    }

    @Test
    void segmentsOfFp16AreReadAndWrittenAsJavaDoes() {
        DkmLayout l = new DkmLayout(4096, 64, 64, 1, 32);
        DkmParams p = new DkmParams(4, 1, DkmMode.DKM, 1e-2, 0, false, 0);
        float[] w = values(l.elements(), 24);
        double[] c = table(l.partitions() * p.lutStride(), 0.1, 25);
        boolean[] active = {true, true};
        try (Arena arena = Arena.ofConfined()) {
            var expected = arena.allocate(2 * l.elements());
            var actual = arena.allocate(2 * l.elements());
            reference.attentionApply(DkmData.of(w), DkmData.of(expected, DType.F16), l, p, c, c, active);
            passes().attentionApply(DkmData.of(w), DkmData.of(actual, DType.F16), l, p, c, c, active);
            float[] e = new float[(int) l.elements()];
            float[] a = new float[(int) l.elements()];
            DkmData.of(expected, DType.F16).read(0, e.length, e, 0, 1);
            DkmData.of(actual, DType.F16).read(0, a.length, a, 0, 1);
            assertElements(e, a, "attentionApply into fp16 (one fp16 rounding apart at most)");
        }
    }

    @Test
    void aLargerKOrClusterDimThanTheKernelsHoldIsRefusedWithTheLimit() {
        DkmLayout l = new DkmLayout(1024, 1, 1024, 16, 1024);
        DkmParams p = new DkmParams(4, 16, DkmMode.DKM, 1e-2, 0, false, 0);
        DkmPasses device = passes();
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> device.attentionSums(DkmData.of(new float[1024]), l, p, new double[64], new boolean[] {true},
                        new double[DkmPasses.sumsWidth(p)]));
        assertTrue(e.getMessage().contains("cluster_dim <= " + DkmKernelArgs.MAX_DIM), e.getMessage());
        assertEquals(8, DkmKernelArgs.MAX_DIM);
    }
}
