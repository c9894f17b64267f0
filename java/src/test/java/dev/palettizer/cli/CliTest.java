package dev.palettizer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.Palettizer;
import dev.palettizer.config.ConfigFiles;
import dev.palettizer.config.Presets;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.LutDType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The command line end to end: round trips, the size bound, and every bad input of issue 2's list. */
class CliTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {}

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int exit = Main.run(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static float[] laplace(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double u = r.nextDouble() - 0.5;
            v[i] = (float) (-0.02 * Math.signum(u) * Math.log(1 - 2 * Math.abs(u)));
        }
        return v;
    }

    private Path model(String name, float[] weight, long... shape) throws IOException {
        Path p = dir.resolve(name);
        new SafetensorsWriter()
                .add(new SafetensorsWriter.Tensor("layer.weight", DType.F32, shape, SafetensorsWriter.Payload.ofFloats(weight)))
                .add(new SafetensorsWriter.Tensor("layer.bias", DType.F32, new long[] {shape[0]},
                        SafetensorsWriter.Payload.ofFloats(new float[(int) shape[0]])))
                .write(p);
        return p;
    }

    private static float[] read(Path file, String tensor) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            SafetensorsFile.Entry e = f.tensor(tensor).orElseThrow();
            float[] out = new float[(int) e.elementCount()];
            e.floats().read(0, out, 0, out.length);
            return out;
        }
    }

    @Test
    void palettizeDecompressAndInspectRoundTrip() throws IOException {
        float[] w = laplace(1024 * 1024, 1);
        Path in = model("m.safetensors", w, 1024, 1024);
        Path out = dir.resolve("m.pal.safetensors");
        Path dense = dir.resolve("m.dense.safetensors");
        Path report = dir.resolve("report.json");
        Run p = run("palettize", in.toString(), out.toString(), "--bits", "4", "--report", report.toString());
        assertEquals(0, p.exit(), p.err());
        assertTrue(p.out().contains("layer.weight") && p.out().contains("total:"), p.out());
        assertTrue(Files.readString(report).contains("\"snr_db\""));
        assertEquals(0, run("decompress", out.toString(), dense.toString()).exit());
        float[] rebuilt = read(dense, "layer.weight");
        assertTrue(java.util.Arrays.stream(toDoubles(rebuilt)).distinct().count() <= 16);
        assertArrayEquals(new float[1024], read(dense, "layer.bias"), "1-D tensors are copied unchanged");
        Run inspect = run("inspect", out.toString());
        assertEquals(0, inspect.exit());
        assertTrue(inspect.out().contains("4-bit per-tensor") && inspect.out().contains("plain F32"), inspect.out());
    }

    private static final String BACKEND_LINE = "palettizer: backend ";

    @Test
    void palettizeSaysWhichBackendAutoPickedAndWhy() throws IOException {
        Path in = model("m.safetensors", laplace(64 * 64, 3), 64, 64);
        Run p = run("palettize", in.toString(), dir.resolve("out.safetensors").toString());
        assertEquals(0, p.exit(), p.err());
        List<String> lines = p.err().lines().filter(line -> line.startsWith(BACKEND_LINE)).toList();
        assertEquals(1, lines.size(), p.err());
        assertTrue(lines.getFirst().startsWith(BACKEND_LINE + "auto -> "), lines.getFirst());
        Run java = run("palettize", in.toString(), dir.resolve("java.safetensors").toString(), "--backend", "java",
                "--device", "0");
        assertEquals(0, java.exit(), java.err());
        assertTrue(java.err().contains(BACKEND_LINE + "java (device 0): requested by name\n"), java.err());
    }

    @Test
    void backendsListsEveryBackendWithItsDevicesAndAutosChoice() {
        Run r = run("backends");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.contains("java (rank 100): available (pure Java reference, always available)"), r.out());
        assertTrue(lines.stream().anyMatch(l -> l.matches("  device 0: Java on \\d+ CPU cores \\[CPU]: available .*")),
                r.out());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("cuda (rank 0): ")), r.out());
        assertTrue(lines.getLast().startsWith("auto -> "), lines.getLast());
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("CUDA:")), "probes only with --diagnose: " + r.out());
    }

    @Test
    void backendsDiagnoseAddsEveryNativeProbe() {
        Run r = run("backends", "--diagnose");
        assertEquals(0, r.exit(), r.err());
        for (String probe : new String[] {"\nCUDA:", "\nJCuda:", "\ncuBLAS:", "\nOpenCL:", "\nLWJGL:"}) {
            assertTrue(r.out().contains(probe), probe + " missing from " + r.out());
        }
    }

    @Test
    void unknownOrUnbuiltBackendsAndMissingDevicesFailWithOneLine() throws IOException {
        Path in = model("m.safetensors", laplace(64 * 64, 4), 64, 64);
        Path out = dir.resolve("out.safetensors");
        Run unknown = run("palettize", in.toString(), out.toString(), "--backend", "nosuch");
        assertEquals(1, unknown.exit());
        assertEquals("palettizer: error: unknown backend 'nosuch'; choose one of auto, cuda, opencl, java",
                unknown.err().strip());
        assertFalse(Files.exists(out));
        assertFailsCleanly(run("decompress", in.toString(), out.toString(), "--backend", "java", "--device", "3"), out,
                "backend 'java' has no device '3'");
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Test
    void fourBitPerTensorFileIsHalfAByteAWeightPlusLutAndMetadata() throws IOException {
        int n = 2048 * 2048;
        Path in = dir.resolve("big.safetensors");
        new SafetensorsWriter().add(new SafetensorsWriter.Tensor("w", DType.F32, new long[] {2048, 2048},
                SafetensorsWriter.Payload.ofFloats(laplace(n, 2)))).write(in);
        Path out = dir.resolve("big.pal.safetensors");
        assertEquals(0, run("palettize", in.toString(), out.toString()).exit());
        long lutAndMetadata = 16 * 4 + 4096;
        assertTrue(Files.size(out) <= n / 2 * 1.01 + lutAndMetadata, "compressed size " + Files.size(out));
    }

    @Test
    void sensitivitiesLowerTheWeightedErrorEndToEnd() throws IOException {
        float[] w = laplace(256 * 256, 3);
        Path in = model("m.safetensors", w, 256, 256);
        float[] s = new float[w.length];
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) Math.pow(r.nextDouble(), 4);
        }
        Path sens = dir.resolve("s.safetensors");
        new SafetensorsWriter().add(new SafetensorsWriter.Tensor("layer.weight", DType.F32, new long[] {256, 256},
                SafetensorsWriter.Payload.ofFloats(s))).write(sens);
        double plain = weightedError(in, null, w, s, "plain");
        double weighted = weightedError(in, sens, w, s, "weighted");
        assertTrue(weighted < plain, weighted + " vs " + plain);
    }

    private double weightedError(Path in, Path sens, float[] w, float[] s, String tag) throws IOException {
        Path out = dir.resolve(tag + ".pal.safetensors");
        Path dense = dir.resolve(tag + ".dense.safetensors");
        Run p = sens == null ? run("palettize", in.toString(), out.toString(), "--bits", "2")
                : run("palettize", in.toString(), out.toString(), "--bits", "2", "--sensitivities", sens.toString());
        assertEquals(0, p.exit(), p.err());
        assertEquals(0, run("decompress", out.toString(), dense.toString()).exit());
        float[] rebuilt = read(dense, "layer.weight");
        double e = 0;
        for (int i = 0; i < w.length; i++) {
            e += s[i] * (w[i] - rebuilt[i]) * (w[i] - rebuilt[i]);
        }
        return e;
    }

    // ------------------------------------------------------------------ bad input

    /** A raw safetensors file: header JSON and data bytes, optionally with a lying header length. */
    private Path raw(String name, String header, int dataBytes, Long declaredLength) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength == null ? h.length : declaredLength).put(h);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    static Stream<Arguments> badFiles() {
        return Stream.of(
                Arguments.of("truncated", "{\"w\":{\"dtype\":\"F32\",\"shape\":[64,64],\"data_offsets\":[0,16384]}}", 100, null, "w"),
                Arguments.of("header past end", "{}", 0, 1L << 40, "header"),
                Arguments.of("overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, null, "overlap"),
                Arguments.of("out of range", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}", 16, null, "a"),
                Arguments.of("unknown dtype", "{\"a\":{\"dtype\":\"F17\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, null, "F17"),
                Arguments.of("shape vs bytes", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, null, "a"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void malformedFilesFailWithOneLineAndNoOutput(String label, String header, int data, Long declared, String mention)
            throws IOException {
        Path in = raw("bad.safetensors", header, data, declared);
        Path out = dir.resolve("out.safetensors");
        assertFailsCleanly(run("palettize", in.toString(), out.toString()), out, mention);
    }

    @Test
    void nanWeightsAreRejected() throws IOException {
        float[] w = laplace(64 * 64, 5);
        w[70] = Float.NaN;
        Path in = model("nan.safetensors", w, 64, 64);
        Path out = dir.resolve("out.safetensors");
        assertFailsCleanly(run("palettize", in.toString(), out.toString()), out, "layer.weight");
    }

    @Test
    void sensitivitiesOfTheWrongShapeAreRejected() throws IOException {
        Path in = model("m.safetensors", laplace(64 * 64, 6), 64, 64);
        Path sens = dir.resolve("s.safetensors");
        new SafetensorsWriter().add(new SafetensorsWriter.Tensor("layer.weight", DType.F32, new long[] {32, 64},
                SafetensorsWriter.Payload.ofFloats(new float[32 * 64]))).write(sens);
        Path out = dir.resolve("out.safetensors");
        assertFailsCleanly(run("palettize", in.toString(), out.toString(), "--sensitivities", sens.toString()), out,
                "shape");
    }

    @Test
    void badSpecsAndOverwritingTheInputAreRejected() throws IOException {
        Path in = model("m.safetensors", laplace(64 * 64, 7), 64, 64);
        Path out = dir.resolve("out.safetensors");
        // Bad flag values are usage errors (issue 17): exit 2, the message first, then the usage.
        Run bits = run("palettize", in.toString(), out.toString(), "--bits", "5");
        assertEquals(2, bits.exit(), bits.err());
        assertTrue(bits.err().startsWith("n_bits must be one of {1, 2, 3, 4, 6, 8}, got 5"), bits.err());
        Run fp8 = run("palettize", in.toString(), out.toString(), "--lut-dtype", "fp8_e4m3", "--lut-qscheme", "asymmetric");
        assertEquals(2, fp8.exit(), fp8.err());
        assertTrue(fp8.err().lines().findFirst().orElseThrow().contains("symmetric"), fp8.err());
        assertFalse(Files.exists(out));
        byte[] before = Files.readAllBytes(in);
        Run same = run("palettize", in.toString(), in.toString());
        assertNotEquals(0, same.exit());
        assertTrue(same.err().contains("equals input"), same.err());
        assertArrayEquals(before, Files.readAllBytes(in), "input untouched");
    }

    // ------------------------------------------------------------------ configs and presets (issue 3)

    /** Two linear layers and an embedding, so that name, type and global rules each have something to decide. */
    private Path threeModuleModel() throws IOException {
        Path p = dir.resolve("three.safetensors");
        new SafetensorsWriter()
                .add(new SafetensorsWriter.Tensor("embed.weight", DType.F32, new long[] {128, 64},
                        SafetensorsWriter.Payload.ofFloats(laplace(128 * 64, 11))))
                .add(new SafetensorsWriter.Tensor("layers.0.fc.weight", DType.F32, new long[] {64, 64},
                        SafetensorsWriter.Payload.ofFloats(laplace(64 * 64, 12))))
                .add(new SafetensorsWriter.Tensor("layers.1.fc.weight", DType.F32, new long[] {64, 64},
                        SafetensorsWriter.Payload.ofFloats(laplace(64 * 64, 13))))
                .write(p);
        return p;
    }

    private static Map<String, Integer> bitsByTensor(Path compressed) throws IOException {
        return Palettizer.inspect(compressed).palettized().stream().collect(
                Collectors.toMap(PalettizedTensor::name, t -> t.spec().nBits()));
    }

    @Test
    void configFileDecidesPerTensorAndTheReportSaysWhichRule() throws IOException {
        Path in = threeModuleModel();
        Path config = dir.resolve("c.yaml");
        Files.writeString(config, """
                kmeans_palettization_config:
                  global_config: {op_state_spec: {weight: {n_bits: 6}}}
                  module_type_configs: {Embedding: {op_state_spec: {weight: {n_bits: 8}}}}
                  module_name_configs: {'layers\\.1\\..*': null}
                """);
        Path out = dir.resolve("c.pal.safetensors");
        Path report = dir.resolve("c.json");
        Run r = run("palettize", in.toString(), out.toString(), "--config", config.toString(), "--report", report.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(Map.of("embed.weight", 8, "layers.0.fc.weight", 6), bitsByTensor(out));
        assertTrue(r.out().contains("module_name_configs.\"layers\\\\.1\\\\..*\": null"), r.out());
        String json = Files.readString(report);
        assertTrue(json.contains("\"spec\" : \"config " + config.toString().replace("\\", "\\\\") + "\""), json);
        assertTrue(json.contains("module_type_configs.Embedding.op_state_spec.weight"), json);
    }

    @Test
    void presetIsANamedConfig() throws IOException {
        Path in = threeModuleModel();
        Path out = dir.resolve("p.pal.safetensors");
        Run r = run("palettize", in.toString(), out.toString(), "--preset", "2bit-grouped32-int8-lut");
        assertEquals(0, r.exit(), r.err());
        assertEquals(Map.of("embed.weight", 2, "layers.0.fc.weight", 2, "layers.1.fc.weight", 2), bitsByTensor(out));
        var t = Palettizer.inspect(out).palettized("layers.0.fc.weight").orElseThrow();
        assertEquals(2, t.groups(), "64 output channels in groups of 32");
        assertEquals(LutDType.INT8, t.spec().lutQuant().dtype());
    }

    @Test
    void presetsListsEveryPresetWithItsYamlAndPrintsOneForAConfigFile() throws IOException {
        Run all = run("presets");
        assertEquals(0, all.exit(), all.err());
        for (var p : Presets.all()) {
            assertTrue(all.out().contains("# " + p.name() + ": " + p.description() + "\n"
                    + ConfigFiles.toYaml(p.config())), p.name());
        }
        Run one = run("presets", "3bit-per-channel");
        assertEquals(0, one.exit(), one.err());
        Path file = dir.resolve("p.yaml");
        Files.writeString(file, one.out());
        assertEquals(Presets.named("3bit-per-channel").config(),
                ConfigFiles.load(file));
        Run unknown = run("presets", "5bit");
        assertEquals(1, unknown.exit());
        assertTrue(unknown.err().strip().startsWith("palettizer: error: unknown preset '5bit'; choose one of"), unknown.err());
    }

    @Test
    void badConfigFilesFailWithOneLineNamingTheFileAndThePath() throws IOException {
        Path in = threeModuleModel();
        Path out = dir.resolve("out.safetensors");
        Path config = dir.resolve("bad.yaml");
        Files.writeString(config, """
                kmeans_palettization_config:
                  module_name_configs:
                    "layer.*":
                      op_state_spec:
                        weight: {n_bits: 5}
                """);
        assertFailsCleanly(run("palettize", in.toString(), out.toString(), "--config", config.toString()), out,
                config + ": module_name_configs.\"layer.*\".op_state_spec.weight.n_bits: 5 is not one of {1, 2, 3, 4, 6, 8}");
        Files.writeString(config, "kmeans_palettization_config: {global_config: {op_state_spec: {weight: {cluster_dim: 2}}}}");
        assertFailsCleanly(run("palettize", in.toString(), out.toString(), "--config", config.toString()), out,
                config + ": global_config.op_state_spec.weight: cluster_dim 2 is not supported with enable_fast_kmeans_mode");
        assertFailsCleanly(run("palettize", in.toString(), out.toString(), "--config", dir.resolve("none.yaml").toString()),
                out, "no such file: " + dir.resolve("none.yaml"));
        assertFailsCleanly(run("palettize", in.toString(), out.toString(), "--preset", "5bit"), out, "unknown preset '5bit'");
    }

    @Test
    void specFlagsAndASecondConfigSourceAreRefusedNextToAConfig() throws IOException {
        Path in = threeModuleModel();
        Path out = dir.resolve("out.safetensors");
        Run bits = run("palettize", in.toString(), out.toString(), "--preset", "8bit-per-tensor", "--bits", "2", "--no-fast");
        assertEquals(2, bits.exit(), "a usage error");
        assertTrue(bits.err().startsWith("--bits, --no-fast cannot be combined with --preset: the config decides every"
                + " tensor's spec and clustering mode"), bits.err());
        Run both = run("palettize", in.toString(), out.toString(), "--preset", "8bit-per-tensor", "--config", "c.yaml");
        assertEquals(2, both.exit());
        assertTrue(both.err().startsWith("--config and --preset are mutually exclusive"), both.err());
        assertFalse(Files.exists(out));
        Run jobFlags = run("palettize", in.toString(), out.toString(), "--preset", "8bit-per-tensor",
                "--weight-threshold", "4096", "--seed", "3", "--workers", "1");
        assertEquals(0, jobFlags.exit(), "job flags still apply: " + jobFlags.err());
        assertEquals(Map.of("embed.weight", 8), bitsByTensor(out), "only the tensor above 4096 elements");
    }

    /** The line palettize prints about the backend before it starts is not part of the error. */
    private void assertFailsCleanly(Run r, Path out, String mention) throws IOException {
        assertNotEquals(0, r.exit());
        String err = r.err().lines().filter(line -> !line.startsWith(BACKEND_LINE)).collect(Collectors.joining("\n")).strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith("palettizer: error: ") && err.contains(mention), err);
        assertFalse(Files.exists(out), "no output file");
        try (Stream<Path> left = Files.list(dir)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().contains(".tmp")), "no temporary file left");
        }
    }
}
