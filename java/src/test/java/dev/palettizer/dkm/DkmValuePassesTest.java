package dev.palettizer.dkm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.DkmData;
import dev.palettizer.backend.DkmLayout;
import dev.palettizer.backend.DkmPasses.ValueKeys;
import dev.palettizer.backend.JavaDkmPasses;
import dev.palettizer.model.DType;
import dev.palettizer.model.Floats;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The per-value passes over 16-bit segments read the stored patterns as keys (no float round trip): they
 * must give the bits of the float route (the same values as heap floats, keyed through {@link ValueKeys#key}),
 * for every output type, two partitions, and any thread count.
 */
class DkmValuePassesTest {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int KEYS = 65_536;

    @ParameterizedTest
    @EnumSource(value = ValueKeys.class)
    void bitsRouteEqualsFloatRoute(ValueKeys keys) {
        DType type = keys == ValueKeys.F16 ? DType.F16 : DType.BF16;
        int rows = 6;
        int cols = 9_001;
        int n = rows * cols;
        DkmLayout layout = new DkmLayout(n, cols, rows, 1, 3);
        SplittableRandom rnd = new SplittableRandom(5);
        float[] w = new float[n];
        float[] g = new float[n];
        try (Arena arena = Arena.ofShared(); JavaDkmPasses one = new JavaDkmPasses(1); JavaDkmPasses two = new JavaDkmPasses(2)) {
            MemorySegment ws = arena.allocate(2L * n);
            MemorySegment gs = arena.allocate(2L * n);
            for (int i = 0; i < n; i++) {
                // Every finite pattern of the type may occur (subnormals, -0, huge values), plus a normal bulk.
                short bits = (short) (i % 3 == 0 ? finitePattern(keys, rnd) : encode(type, (float) (rnd.nextGaussian() * 0.05)));
                ws.setAtIndex(U16, i, bits);
                w[i] = decode(type, bits);
                short gb = encode(type, (float) rnd.nextGaussian());
                gs.setAtIndex(U16, i, gb);
                g[i] = decode(type, gb);
            }
            DkmData heapW = DkmData.of(w);
            DkmData heapG = DkmData.of(g);
            DkmData segW = DkmData.of(ws, type);
            DkmData segG = DkmData.of(gs, type);
            float[] table = new float[2 * KEYS];
            float[] a = new float[2 * KEYS];
            float[] b = new float[2 * KEYS];
            for (int i = 0; i < table.length; i++) {
                table[i] = (float) rnd.nextGaussian();
                a[i] = (float) rnd.nextGaussian();
                b[i] = (float) rnd.nextGaussian();
            }

            double[] expected = new double[2 * KEYS];
            assertTrue(one.countValues(heapW, layout, keys, expected));
            for (JavaDkmPasses passes : new JavaDkmPasses[] {one, two}) {
                double[] counts = new double[2 * KEYS];
                assertTrue(passes.countValues(segW, layout, keys, counts));
                assertArrayEquals(expected, counts);
            }
            one.sumByValue(heapW, heapG, layout, keys, expected);
            for (JavaDkmPasses passes : new JavaDkmPasses[] {one, two}) {
                double[] sums = new double[2 * KEYS];
                passes.sumByValue(segW, segG, layout, keys, sums);
                assertArrayEquals(expected, sums);
            }
            for (DType outType : new DType[] {DType.F32, DType.F16, DType.BF16}) {
                MemorySegment want = arena.allocate(outType.byteSize() * n);
                MemorySegment got = arena.allocate(outType.byteSize() * n);
                one.gatherByValue(heapW, DkmData.of(want, outType), layout, keys, table);
                two.gatherByValue(segW, DkmData.of(got, outType), layout, keys, table);
                assertArrayEquals(want.toArray(ValueLayout.JAVA_BYTE), got.toArray(ValueLayout.JAVA_BYTE), "gather into " + outType);
                one.gatherGradientByValue(heapW, heapG, DkmData.of(want, outType), layout, keys, a, b);
                two.gatherGradientByValue(segW, segG, DkmData.of(got, outType), layout, keys, a, b);
                assertArrayEquals(want.toArray(ValueLayout.JAVA_BYTE), got.toArray(ValueLayout.JAVA_BYTE), "gradient into " + outType);
            }
        }
    }

    private static short finitePattern(ValueKeys keys, SplittableRandom rnd) {
        while (true) {
            int bits = rnd.nextInt(KEYS);
            if (Float.isFinite(keys.value(bits))) {
                return (short) bits;
            }
        }
    }

    private static short encode(DType type, float x) {
        return type == DType.F16 ? Float.floatToFloat16(x) : Floats.toBf16(x);
    }

    private static float decode(DType type, short bits) {
        return type == DType.F16 ? Float.float16ToFloat(bits) : Floats.fromBf16(bits);
    }
}
