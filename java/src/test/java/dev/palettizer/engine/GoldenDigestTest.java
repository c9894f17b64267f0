package dev.palettizer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.palettizer.api.Palettizer;
import dev.palettizer.model.DType;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Same input, same bits, across changes to the hot paths (issue 14): SHA-256 of each result's LUT,
 * quantized LUT codes, packed indices, channel scales, error statistics and reconstruction, against
 * digests recorded before the hot paths were reworked. A digest changes only when a result does; a
 * deliberate change of results re-records them and says why in its commit.
 *
 * <p>The cases cover every path the rework touches: dense and sorted histograms, the optimal DP at one
 * large and thousands of small groups, the per-tensor assignment table (a group of 2^20 values) and
 * the plain search, 2 to 8 bits, LUT quantization, channel scales, fp16 input, values past the fp16
 * range (exact fp32 keys), few distinct values, vectors, groups of several slices, and exact ties in the DP.
 */
class GoldenDigestTest {
    private static final int ROWS = 1024;
    private static final int COLS = 1024;
    private static Palettizer fast;
    private static Palettizer exact;
    private static Palettizer kmeansPlusPlus;
    private static float[] laplace;
    private static float[] sensitivities;

    @BeforeAll
    static void setUp() {
        laplace = Oracle.laplace(ROWS * COLS, 0.02, 7);
        sensitivities = Oracle.uniform(ROWS * COLS, 8);
        fast = Palettizer.builder().workers(2).build();
        exact = Palettizer.builder().workers(2).options(EngineOptions.defaults().withFastMode(false)).build();
        kmeansPlusPlus = Palettizer.builder().workers(2)
                .options(EngineOptions.defaults().withFastMode(false).withAlgorithm(Algorithm.KMEANS_PLUS_PLUS)).build();
    }

    @AfterAll
    static void tearDown() {
        fast.close();
        exact.close();
        kmeansPlusPlus.close();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "per-tensor 4-bit,                 e269dad4faf5bccb",
        "per-tensor 8-bit,                 b3ee20d1d2e1f592",
        "per-tensor 1-bit,                 46022088e23304b4",
        "per-tensor 2-bit weighted,        01d91e1c0323d56f",
        "per-tensor 4-bit exact,           7938234597a9bbc4",
        "grouped axis 0 size 32 4-bit,     bae9bc199c11d506",
        "grouped axis 1 size 16 3-bit,     01bac2565c525791",
        "grouped axis 1 size 128 4-bit,    5cc683849a20eeb9",
        "per-channel 4-bit weighted,       a0ed3b267bdd0a31",
        "per-channel 3-bit exact weighted, eb5ebe891478743e",
        "per-channel scale 4-bit,          06e35110471b6aca",
        "int8 LUT per-tensor 4-bit,        1c4b8d5a9d321aae",
        "fp16 input per-tensor 6-bit,      fa827ed45646653e",
        "outliers per-tensor 4-bit,        eb8d294b46a49cfc",
        "few distinct per-channel 2-bit,   6e058316abf0c90c",
        "vectors of 2 kmeans++ 4-bit,      48e55ad44a3ce5d0",
        "per-tensor 4-bit weighted 3 slices, 2e474c006de2fc92",
        "grouped axis 0 size 1280 weighted 4-bit, c8a1b96fde2a722a",
        "per-channel 4-bit weighted grid ties, a3ca69d7a805d825",
    })
    void resultsKeepTheirBits(String name, String expected) {
        PalettizedTensor t = run(name.strip());
        float[] rebuilt = (name.startsWith("vectors") ? kmeansPlusPlus : fast).reconstruct(t);
        assertEquals(expected, digest(t, rebuilt), name);
    }

    private static PalettizedTensor run(String name) {
        PalettizationSpec spec = PalettizationSpec.defaults();
        TensorInput matrix = TensorInput.of("w", laplace, ROWS, COLS);
        TensorInput weighted = matrix.withSensitivities(new FloatArraySource(sensitivities));
        return switch (name) {
            case "per-tensor 4-bit" -> fast.palettize(matrix, spec);
            case "per-tensor 8-bit" -> fast.palettize(matrix, spec.withBits(8));
            case "per-tensor 1-bit" -> fast.palettize(matrix, spec.withBits(1));
            case "per-tensor 2-bit weighted" -> fast.palettize(weighted, spec.withBits(2));
            case "per-tensor 4-bit exact" -> exact.palettize(matrix, spec);
            case "grouped axis 0 size 32 4-bit" -> fast.palettize(matrix, spec.withGranularity(Granularity.grouped(0, 32)));
            case "grouped axis 1 size 16 3-bit" ->
                    fast.palettize(matrix, spec.withBits(3).withGranularity(Granularity.grouped(1, 16)));
            case "grouped axis 1 size 128 4-bit" -> fast.palettize(matrix, spec.withGranularity(Granularity.grouped(1, 128)));
            case "per-channel 4-bit weighted" -> fast.palettize(weighted, spec.withGranularity(Granularity.perChannel(0)));
            case "per-channel 3-bit exact weighted" ->
                    exact.palettize(weighted, spec.withBits(3).withGranularity(Granularity.perChannel(0)));
            case "per-channel scale 4-bit" -> fast.palettize(matrix, spec.withPerChannelScale(true));
            case "int8 LUT per-tensor 4-bit" ->
                    fast.palettize(matrix, spec.withLutQuant(new LutQuantSpec(LutDType.INT8, QScheme.SYMMETRIC, null)));
            case "fp16 input per-tensor 6-bit" -> fast.palettize(fp16(), spec.withBits(6));
            case "outliers per-tensor 4-bit" -> fast.palettize(outliers(), spec);
            case "few distinct per-channel 2-bit" ->
                    fast.palettize(fewDistinct(), spec.withBits(2).withGranularity(Granularity.perChannel(0)));
            case "vectors of 2 kmeans++ 4-bit" -> kmeansPlusPlus.palettize(matrix, spec.withClusterDim(2));
            // Groups of more than one slice (2^20 values): dense histograms summed across slices, then folded.
            case "per-tensor 4-bit weighted 3 slices" -> fast.palettize(tall(), spec);
            case "grouped axis 0 size 1280 weighted 4-bit" ->
                    fast.palettize(tall(), spec.withGranularity(Granularity.grouped(0, 1280)));
            case "per-channel 4-bit weighted grid ties" ->
                    fast.palettize(grid(), spec.withGranularity(Granularity.perChannel(0)));
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** 2560 x 1024 weighted Laplace values: a per-tensor group of three slices, or two groups of two. */
    private static TensorInput tall() {
        int n = 2560 * COLS;
        return TensorInput.of("tall", Oracle.laplace(n, 0.02, 11), 2560, COLS)
                .withSensitivities(new FloatArraySource(Oracle.uniform(n, 12)));
    }

    /**
     * Rows of values on a grid of 1/64 with weights 1 or 2: symmetric clusters and equal weights give the
     * optimal DP exact ties in many rows, which must keep going to the first split.
     */
    private static TensorInput grid() {
        float[] v = new float[512 * 512];
        float[] s = new float[v.length];
        SplittableRandom r = new SplittableRandom(13);
        for (int i = 0; i < v.length; i++) {
            v[i] = (r.nextInt(33) - 16) / 64f;
            s[i] = 1 + (i / 512) % 2 * r.nextInt(2);
        }
        return TensorInput.of("grid", v, 512, 512).withSensitivities(new FloatArraySource(s));
    }

    /** The matrix stored as fp16: exact fp16 keys. */
    private static TensorInput fp16() {
        float[] v = new float[laplace.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = Float.float16ToFloat(Float.floatToFloat16(laplace[i]));
        }
        return new TensorInput("w16", DType.F16, new long[] {ROWS, COLS}, new FloatArraySource(v), null);
    }

    /** A quarter of the matrix with a few values past the fp16 range: fast keys cannot hold them. */
    private static TensorInput outliers() {
        float[] v = java.util.Arrays.copyOf(laplace, ROWS * COLS / 4);
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < 64; i++) {
            v[r.nextInt(v.length)] = (float) (r.nextBoolean() ? 1e5 : -7e4);
        }
        return TensorInput.of("outliers", v, ROWS / 4, COLS);
    }

    /** Rows of at most three distinct values, some of them exact groups. */
    private static TensorInput fewDistinct() {
        float[] v = new float[256 * 256];
        SplittableRandom r = new SplittableRandom(10);
        for (int i = 0; i < v.length; i++) {
            int row = i / 256;
            v[i] = (row % 3) * 0.25f + r.nextInt(row % 5 + 1) * 0.125f;
        }
        return TensorInput.of("few", v, 256, 256);
    }

    private static String digest(PalettizedTensor t, float[] rebuilt) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        md.update(floats(t.lut()));
        if (t.quantizedLut() != null) {
            md.update(t.quantizedLut().codes());
            md.update(floats(new float[] {t.quantizedLut().scale(), t.quantizedLut().zeroPoint()}));
        }
        md.update(t.packedIndices());
        if (t.channelScales() != null) {
            md.update(floats(t.channelScales()));
        }
        md.update(ByteBuffer.allocate(32).putDouble(t.error().sse()).putDouble(t.error().weightedSse())
                .putDouble(t.error().signalEnergy()).putLong(t.error().count()).array());
        md.update(floats(rebuilt));
        return HexFormat.of().formatHex(md.digest()).substring(0, 16);
    }

    private static byte[] floats(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length);
        b.asFloatBuffer().put(v);
        return b.array();
    }
}
