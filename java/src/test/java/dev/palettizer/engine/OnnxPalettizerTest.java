package dev.palettizer.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.JavaBackend;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.OnnxCompressedFormat;
import dev.palettizer.io.OnnxCompressedModel;
import dev.palettizer.io.OnnxInitializer;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.io.OnnxType;
import dev.palettizer.io.Ort;
import dev.palettizer.io.TinyOnnx;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import dev.palettizer.spec.SpecException;
import dev.palettizer.spec.SpecResolver;
import dev.palettizer.spec.WeightDecision;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ONNX in and out on {@link TinyOnnx#mixed} (MatMul, Gemm, Gather, Conv and FLOAT16 consumers): the
 * compressed model runs in ONNX Runtime and every output, weights included, equals the dense
 * model's bit for bit (tolerance 0: the graph does the same float operations as the engine);
 * decompressing gives the dense model byte for byte.
 */
class OnnxPalettizerTest {
    /** Weights of the tiny model are small; palettize everything 2-D from 256 elements. */
    private static final long THRESHOLD = 256;
    private static final List<String> WEIGHTS =
            List.of("onnx::MatMul_1", "dec.weight", "emb.weight", "conv.weight", "half.weight");
    private static ForkJoinPool pool;
    private static OnnxPalettizer onnx;
    private static ModelPalettizer models;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        pool = new ForkJoinPool(2);
        models = new ModelPalettizer(new JavaBackend(pool), EngineOptions.defaults(), pool);
        onnx = new OnnxPalettizer(models, pool);
    }

    @AfterAll
    static void tearDown() {
        pool.close();
    }

    record Case(String label, long opset, long ir, PalettizationSpec spec, boolean fast, OnnxType indexType) {
        @Override
        public String toString() {
            return label;
        }
    }

    private static PalettizationSpec spec(int bits, Granularity g) {
        return PalettizationSpec.defaults().withBits(bits).withGranularity(g);
    }

    static Stream<Case> cases() {
        LutQuantSpec int8 = new LutQuantSpec(LutDType.INT8, QScheme.SYMMETRIC);
        LutQuantSpec uint8 = new LutQuantSpec(LutDType.UINT8, QScheme.ASYMMETRIC);
        LutQuantSpec fp8 = new LutQuantSpec(LutDType.FP8_E4M3, QScheme.SYMMETRIC);
        return Stream.of(
                new Case("4-bit per tensor, opset 13: packed", 13, 8, spec(4, Granularity.perTensor()), true, OnnxType.UINT8),
                new Case("3-bit grouped axis 0 x8, scaled", 13, 8,
                        spec(3, Granularity.grouped(0, 8)).withPerChannelScale(true), true, OnnxType.UINT8),
                new Case("6-bit grouped axis 1 x16", 13, 8, spec(6, Granularity.grouped(1, 16)), false, OnnxType.UINT8),
                new Case("2-bit per channel, opset 13", 13, 8, spec(2, Granularity.perChannel(0)), true, OnnxType.UINT8),
                new Case("1-bit per tensor, opset 11", 11, 6, spec(1, Granularity.perTensor()), true, OnnxType.UINT8),
                new Case("8-bit int8 LUT", 13, 8, spec(8, Granularity.perTensor()).withLutQuant(int8), true, OnnxType.UINT8),
                new Case("4-bit vectors of 2, grouped axis 0 x4, uint8 LUT", 13, 8,
                        spec(4, Granularity.grouped(0, 4)).withClusterDim(2).withLutQuant(uint8), false, OnnxType.UINT8),
                new Case("3-bit vectors of 4, grouped axis 1 x8", 13, 8,
                        spec(3, Granularity.grouped(1, 8)).withClusterDim(4), false, OnnxType.UINT8),
                new Case("4-bit grouped axis 0 x8, opset 21: UINT4", 21, 10, spec(4, Granularity.grouped(0, 8)), true,
                        OnnxType.UINT4),
                new Case("2-bit per tensor, opset 25: UINT2", 25, 11, spec(2, Granularity.perTensor()), true, OnnxType.UINT2),
                new Case("4-bit fp8 e4m3 LUT, opset 19", 19, 9, spec(4, Granularity.perTensor()).withLutQuant(fp8), true,
                        OnnxType.UINT8),
                // Groups of 12: every weight but the MatMul's 96 output channels ends in a ragged group.
                new Case("4-bit grouped axis 0 x12, ragged last group", 13, 8, spec(4, Granularity.groupedRagged(12)), true,
                        OnnxType.UINT8),
                new Case("3-bit ragged x12, scaled, int8 LUT", 13, 8,
                        spec(3, Granularity.groupedRagged(12)).withPerChannelScale(true).withLutQuant(int8), true,
                        OnnxType.UINT8),
                new Case("4-bit vectors of 2, ragged x12", 13, 8, spec(4, Granularity.groupedRagged(12)).withClusterDim(2),
                        false, OnnxType.UINT8),
                new Case("4-bit ragged x12, opset 21: UINT4", 21, 10, spec(4, Granularity.groupedRagged(12)), true,
                        OnnxType.UINT4));
    }

    private static FileJobOptions job(PalettizationSpec spec, boolean fast) {
        return new FileJobOptions(SpecResolver.uniform(spec, fast, 4), THRESHOLD, false, null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void compressedRunsInOrtAndEqualsDense(Case c) throws Exception {
        Path in = TinyOnnx.mixed(c.opset(), c.ir()).write(dir.resolve("in.onnx"));
        byte[] input = Files.readAllBytes(in);
        Path compressed = dir.resolve("compressed.onnx");
        Path dense = dir.resolve("dense.onnx");
        List<TensorReport> reports =
                onnx.palettize(in, compressed, job(c.spec(), c.fast()), OnnxOutput.COMPRESSED, Progress.NONE);
        onnx.palettize(in, dense, job(c.spec(), c.fast()), OnnxOutput.DENSE, Progress.NONE);
        assertArrayEquals(input, Files.readAllBytes(in), "input unchanged");
        Set<String> palettized = reports.stream().filter(TensorReport::palettized).map(TensorReport::name)
                .collect(Collectors.toSet());
        assertTrue(palettized.contains("onnx::MatMul_1") && palettized.contains("half.weight"), palettized.toString());
        assertTrue(Files.size(compressed) < Files.size(dense), "compressed is smaller");

        Map<String, ByteBuffer> fromCompressed = Ort.runMixed(compressed, 7);
        Map<String, ByteBuffer> fromDense = Ort.runMixed(dense, 7);
        Map<String, ByteBuffer> fromOriginal = Ort.runMixed(in, 7);
        assertEquals(fromDense.keySet(), fromCompressed.keySet());
        for (String output : fromDense.keySet()) {
            assertEquals(fromDense.get(output), fromCompressed.get(output), "output " + output + " bit for bit");
        }
        for (String w : List.of("onnx::MatMul_1", "dec.weight", "emb.weight", "conv.weight")) {
            double rel = relativeError(Ort.floats(fromOriginal.get("w_" + w)), Ort.floats(fromDense.get("w_" + w)));
            // A weight in the wrong orientation would be uncorrelated with the original (error ~2).
            assertTrue(rel < (palettized.contains(w) ? 0.6 : 1e-12), w + ": relative squared error " + rel);
        }

        try (OnnxModel m = OnnxModel.open(compressed)) {
            OnnxCompressedModel read = OnnxCompressedFormat.read(m);
            assertEquals(palettized, read.palettized().stream().map(w -> w.tensor().name()).collect(Collectors.toSet()));
            assertEquals(c.indexType(), m.initializer("onnx::MatMul_1.indices").orElseThrow().type());
            OnnxCompressedModel.Weight matmul = read.palettized().stream()
                    .filter(w -> w.tensor().name().equals("onnx::MatMul_1")).findFirst().orElseThrow();
            assertTrue(matmul.transposed(), "MatMul B [in, out] is palettized as [out, in]");
            float[] engine = models.reconstruct(matmul.tensor());
            float[] graph = Ort.floats(fromCompressed.get("w_onnx::MatMul_1"));
            for (int i = 0; i < 64; i++) {
                for (int o = 0; o < 96; o++) {
                    assertEquals(engine[o * 64 + i], graph[i * 96 + o], 0f, "W[" + i + "][" + o + "]");
                }
            }
        }
        Path restored = dir.resolve("restored.onnx");
        onnx.decompress(compressed, restored);
        assertArrayEquals(Files.readAllBytes(dense), Files.readAllBytes(restored), "decompress gives the dense model");
    }

    private static double relativeError(float[] original, float[] rebuilt) {
        double err = 0;
        double energy = 0;
        for (int i = 0; i < original.length; i++) {
            err += (original[i] - rebuilt[i]) * (double) (original[i] - rebuilt[i]);
            energy += original[i] * (double) original[i];
        }
        return err / energy;
    }

    @Test
    void externalDataStaysExternalAndRuns() throws Exception {
        Path in = TinyOnnx.mixed(13, 8).writeExternal(dir.resolve("ext.onnx"), "ext.weights");
        byte[] data = Files.readAllBytes(dir.resolve("ext.weights"));
        Path compressed = dir.resolve("c.onnx");
        Path dense = dir.resolve("d.onnx");
        FileJobOptions job = job(spec(4, Granularity.grouped(0, 8)), true);
        onnx.palettize(in, compressed, job, OnnxOutput.COMPRESSED, Progress.NONE);
        onnx.palettize(in, dense, job, OnnxOutput.DENSE, Progress.NONE);
        assertArrayEquals(data, Files.readAllBytes(dir.resolve("ext.weights")), "input data unchanged");
        assertTrue(Files.exists(dir.resolve("c.onnx.data")) && Files.exists(dir.resolve("d.onnx.data")));
        try (OnnxModel m = OnnxModel.open(dense)) {
            assertTrue(m.usesExternalData());
        }
        Map<String, ByteBuffer> a = Ort.runMixed(compressed, 3);
        Map<String, ByteBuffer> b = Ort.runMixed(dense, 3);
        a.forEach((k, v) -> assertEquals(b.get(k), v, k));
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().contains(".tmp")), "no temporary files left");
        }
    }

    @Test
    void bfloat16WeightsExpandToTheSameBits() throws Exception {
        Path in = TinyOnnx.of(13, 8).input("X", TinyOnnx.FLOAT, 2, 64)
                .initializer(TinyOnnx.halves("bf.weight", TinyOnnx.BFLOAT16, TinyOnnx.laplace(64 * 48, 0.1, 9), 64, 48))
                .node("Cast", "/bf/Cast", List.of("bf.weight"), "wf", TinyOnnx.intAttr("to", TinyOnnx.FLOAT))
                .node("MatMul", "/bf/MatMul", List.of("X", "wf"), "Y")
                .node("Identity", "/id", List.of("bf.weight"), "W")
                .output("Y", TinyOnnx.FLOAT).output("W", TinyOnnx.BFLOAT16)
                .write(dir.resolve("bf.onnx"));
        Path compressed = dir.resolve("bfc.onnx");
        Path dense = dir.resolve("bfd.onnx");
        FileJobOptions job = job(spec(3, Granularity.perChannel(0)).withPerChannelScale(true), true);
        onnx.palettize(in, compressed, job, OnnxOutput.COMPRESSED, Progress.NONE);
        onnx.palettize(in, dense, job, OnnxOutput.DENSE, Progress.NONE);
        float[] x = new float[128];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 7) - 3;
        }
        var env = ai.onnxruntime.OrtEnvironment.getEnvironment();
        try (var xt = ai.onnxruntime.OnnxTensor.createTensor(env, java.nio.FloatBuffer.wrap(x), new long[] {2, 64})) {
            Map<String, ByteBuffer> a = Ort.run(compressed, Map.of("X", xt));
            Map<String, ByteBuffer> b = Ort.run(dense, Map.of("X", xt));
            assertEquals(b.get("W"), a.get("W"));
            assertEquals(b.get("Y"), a.get("Y"));
        }
    }

    @Test
    void theResolverDecidesPerSite() throws Exception {
        Path in = TinyOnnx.mixed(13, 8).write(dir.resolve("in.onnx"));
        PalettizationSpec four = PalettizationSpec.defaults();
        SpecResolver linearOnly = site -> site.moduleType().equals("Linear")
                ? WeightDecision.palettize(four, true, 4, "Linear")
                : WeightDecision.leave("not a Linear: " + site.moduleType() + " " + site.moduleName());
        FileJobOptions job = new FileJobOptions(linearOnly, THRESHOLD, false, null);
        Map<String, TensorReport> reports = onnx.palettize(in, dir.resolve("out.onnx"), job, OnnxOutput.COMPRESSED,
                        Progress.NONE).stream()
                .collect(Collectors.toMap(TensorReport::name, r -> r));
        assertTrue(reports.get("onnx::MatMul_1").palettized());
        assertTrue(reports.get("dec.weight").palettized());
        assertEquals("not a Linear: Embedding emb", reports.get("emb.weight").reason());
        assertEquals("not a Linear: Conv2d conv", reports.get("conv.weight").reason());
        assertFalse(reports.get("half.weight").palettized());
        assertEquals("1-D tensor (pass --include-1d to palettize it)", reports.get("encoder.layer.0.dense.bias").reason());
    }

    @Test
    void refusesWhatItCannotWrite() throws Exception {
        Path in = TinyOnnx.mixed(13, 8).write(dir.resolve("in.onnx"));
        FileJobOptions job = job(PalettizationSpec.defaults(), true);
        assertThrows(ModelFormatException.class, () -> onnx.palettize(in, in, job, OnnxOutput.COMPRESSED, Progress.NONE));
        Path compressed = dir.resolve("c.onnx");
        onnx.palettize(in, compressed, job, OnnxOutput.COMPRESSED, Progress.NONE);
        ModelFormatException again = assertThrows(ModelFormatException.class,
                () -> onnx.palettize(compressed, dir.resolve("cc.onnx"), job, OnnxOutput.COMPRESSED, Progress.NONE));
        assertTrue(again.getMessage().contains("decompress it first"), again.getMessage());

        Path old = TinyOnnx.mixed(10, 5).write(dir.resolve("old.onnx"));
        SpecException opset = assertThrows(SpecException.class,
                () -> onnx.palettize(old, dir.resolve("o.onnx"), job, OnnxOutput.COMPRESSED, Progress.NONE));
        assertTrue(opset.getMessage().contains("opset >= 11") && opset.getMessage().contains("--onnx-output dense"),
                opset.getMessage());
        assertFalse(Files.exists(dir.resolve("o.onnx")));
        onnx.palettize(old, dir.resolve("o.onnx"), job, OnnxOutput.DENSE, Progress.NONE);

        SpecException fp8 = assertThrows(SpecException.class, () -> onnx.palettize(in, dir.resolve("f.onnx"),
                job(PalettizationSpec.defaults().withLutQuant(new LutQuantSpec(LutDType.FP8_E5M2, QScheme.SYMMETRIC)), true),
                OnnxOutput.COMPRESSED, Progress.NONE));
        assertTrue(fp8.getMessage().contains("not supported for ONNX output"), fp8.getMessage());
    }

    /** The embedding's 50 rows: left dense by groups of 16, four LUTs (the last for 2 rows) with the opt-in. */
    @Test
    void aRaggedLastGroupPalettizesTheEmbedding() throws Exception {
        Path in = TinyOnnx.mixed(13, 8).write(dir.resolve("in.onnx"));
        List<TensorReport> plain = onnx.palettize(in, dir.resolve("plain.onnx"), job(spec(4, Granularity.grouped(0, 16)), true),
                OnnxOutput.COMPRESSED, Progress.NONE);
        assertFalse(plain.stream().filter(r -> r.name().equals("emb.weight")).findFirst().orElseThrow().palettized());
        Path out = dir.resolve("ragged.onnx");
        onnx.palettize(in, out, job(spec(4, Granularity.groupedRagged(16)), true), OnnxOutput.COMPRESSED, Progress.NONE);
        try (OnnxModel m = OnnxModel.open(out)) {
            PalettizedTensor emb = OnnxCompressedFormat.read(m).palettized().stream()
                    .filter(w -> w.tensor().name().equals("emb.weight")).findFirst().orElseThrow().tensor();
            assertEquals(4, emb.groups());
            assertEquals(Granularity.groupedRagged(16), emb.spec().granularity());
        }
    }

    @Test
    void transposedWeightsArePalettizedAlongTheirOutputChannels() throws Exception {
        Path in = TinyOnnx.mixed(13, 8).write(dir.resolve("in.onnx"));
        try (OnnxModel m = OnnxModel.open(in)) {
            OnnxInitializer w = m.initializer("onnx::MatMul_1").orElseThrow();
            assertArrayEquals(new long[] {96, 64}, w.engineShape());
            FloatSource stored = w.floats();
            FloatSource view = w.engineFloats();
            float[] a = new float[1];
            float[] b = new float[1];
            for (long[] ij : new long[][] {{0, 0}, {3, 17}, {63, 95}, {10, 0}}) {
                stored.read(ij[0] * 96 + ij[1], a, 0, 1);
                view.read(ij[1] * 64 + ij[0], b, 0, 1);
                assertEquals(a[0], b[0], 0f);
            }
            float[] all = new float[96 * 64];
            view.read(0, all, 0, all.length);
            float[] part = new float[100];
            view.read(1000, part, 0, 100);
            assertArrayEquals(java.util.Arrays.copyOfRange(all, 1000, 1100), part, 0f);
        }
        // Per-channel on 96 output channels: the MatMul weight gets 96 LUTs, not 64.
        Path out = dir.resolve("pc.onnx");
        onnx.palettize(in, out, job(spec(2, Granularity.perChannel(0)), true), OnnxOutput.COMPRESSED, Progress.NONE);
        try (OnnxModel m = OnnxModel.open(out)) {
            assertEquals(96, OnnxCompressedFormat.read(m).palettized().stream()
                    .filter(w -> w.tensor().name().equals("onnx::MatMul_1")).findFirst().orElseThrow().tensor().groups());
        }
    }
}
