package dev.palettizer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.io.TinyOnnx;
import dev.palettizer.model.DType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17: every run says when it did less than asked, and every error says what to do. Each case
 * runs the real command line in a child JVM (its own stderr, exit code and heap) and checks the
 * exit code, stderr and the files left behind.
 */
class NoSilentFailuresTest {
    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {
        /** stderr without the backend announcement and progress lines. */
        String problems() {
            return err.lines().filter(l -> !l.startsWith("palettizer: backend ") && !l.matches("palettizer: +[0-9.]+ % .*")
                            && !l.startsWith("WARNING: Using incubator modules"))
                    .collect(Collectors.joining("\n"));
        }
    }

    static Run cli(List<String> jvm, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xshare:auto"));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        // Small outputs: read stderr after stdout without risk of filling a pipe.
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Run(p.waitFor(), out, err);
    }

    static Run cli(String... args) throws IOException, InterruptedException {
        return cli(List.of("-Xmx512m"), args);
    }

    static float[] gaussian(int n, double std, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double u = 1 - r.nextDouble();
            v[i] = (float) (std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble()));
        }
        return v;
    }

    /** {@code names[i]} of shape [rows, cols], standard deviation 0.02 unless given. */
    private Path model(String file, int rows, int cols, double std, String... names) throws IOException {
        Path p = dir.resolve(file);
        SafetensorsWriter w = new SafetensorsWriter();
        for (int i = 0; i < names.length; i++) {
            w.add(new SafetensorsWriter.Tensor(names[i], DType.F32, new long[] {rows, cols},
                    SafetensorsWriter.Payload.ofFloats(gaussian(rows * cols, std, i + 1))));
        }
        w.write(p);
        return p;
    }

    /** Sensitivities (non-negative) for {@code names}, each [64, 64]. */
    private Path sensitivities(String file, String... names) throws IOException {
        Path p = dir.resolve(file);
        SafetensorsWriter w = new SafetensorsWriter();
        for (String name : names) {
            float[] s = gaussian(64 * 64, 1, name.hashCode());
            for (int i = 0; i < s.length; i++) {
                s[i] = s[i] * s[i];
            }
            w.add(new SafetensorsWriter.Tensor(name, DType.F32, new long[] {64, 64}, SafetensorsWriter.Payload.ofFloats(s)));
        }
        w.write(p);
        return p;
    }

    private Path model(String... names) throws IOException {
        return model("m.safetensors", 64, 64, 0.02, names);
    }

    private Set<String> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    /** Exit 1, one error line that mentions each of {@code mentions}, and nothing written. */
    private void assertRefused(Run r, Set<String> before, String... mentions) throws IOException {
        assertEquals(1, r.exit(), r.err());
        String problems = r.problems().strip();
        assertEquals(1, problems.lines().count(), "one line: " + problems);
        assertTrue(problems.startsWith("palettizer: error: "), problems);
        for (String m : mentions) {
            assertTrue(problems.contains(m), "'" + m + "' in: " + problems);
        }
        assertFalse(problems.contains(".tmp"), "never the temporary file: " + problems);
        assertEquals(before, files(), "no file written");
    }

    // ---------------------------------------------------------------- 1: fast-mode collapse

    @Test
    void item1FastModeCollapseFallsBackToExactValuesAndSaysSo() throws Exception {
        Path in = model("small.safetensors", 256, 256, 1e-5, "tiny.weight");
        Path out = dir.resolve("small.pal.safetensors");
        Path report = dir.resolve("r.json");
        Run r = cli("palettize", in.toString(), out.toString(), "--backend", "java", "--report", report.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("palettizer: warning: tensor 'tiny.weight': fast mode fell back to exact values"),
                r.err());
        JsonNode t = new ObjectMapper().readTree(report.toFile()).get("tensors").get(0);
        assertTrue(t.get("warning").asText().startsWith("fast mode fell back"), t.toString());
        assertTrue(t.get("snr_db").asDouble() > 19, "exact keys keep the 4-bit SNR: " + t);
        Path dense = dir.resolve("dense.safetensors");
        assertEquals(0, cli("decompress", out.toString(), dense.toString()).exit());
        try (SafetensorsFile f = SafetensorsFile.open(dense)) {
            float[] w = new float[256 * 256];
            f.tensor("tiny.weight").orElseThrow().floats().read(0, w, 0, w.length);
            long nonZero = 0;
            for (float v : w) {
                nonZero += v != 0 ? 1 : 0;
            }
            assertTrue(nonZero > w.length / 2, "the tensor is not zeroed: " + nonZero + " non-zero values");
        }
    }

    // ---------------------------------------------------------------- 2: sensitivities

    @Test
    void item2SensitivitiesThatMatchNoTensorAreAnErrorAndSomeMissingAWarning() throws Exception {
        Path in = model("a.weight", "b.weight");
        Path out = dir.resolve("out.safetensors");
        Path prefixed = sensitivities("prefixed.safetensors", "module.a.weight", "module.b.weight");
        Set<String> before = files();
        assertRefused(cli("palettize", in.toString(), out.toString(), "--sensitivities", prefixed.toString()), before,
                prefixed.toString(), "no sensitivity tensor matches any of the 2 tensors", "'module.a.weight'",
                "strip the prefix 'module.'");

        Path some = sensitivities("some.safetensors", "a.weight");
        Run partial = cli("palettize", in.toString(), out.toString(), "--sensitivities", some.toString());
        assertEquals(0, partial.exit(), partial.err());
        assertTrue(partial.err().contains("palettizer: warning: " + some + " has no sensitivities for 1 of the 2 tensors"
                + " to palettize ('b.weight')"), partial.err());
        assertTrue(Files.exists(out));

        float[] bad = new float[64 * 64];
        bad[70] = -1f;
        Path negative = dir.resolve("negative.safetensors");
        new SafetensorsWriter().add(new SafetensorsWriter.Tensor("b.weight", DType.F32, new long[] {64, 64},
                SafetensorsWriter.Payload.ofFloats(bad))).write(negative);
        Path out2 = dir.resolve("out2.safetensors");
        before = files();
        assertRefused(cli("palettize", in.toString(), out2.toString(), "--sensitivities", negative.toString()), before,
                negative + ": tensor 'b.weight': sensitivity -1.0 at element 70");
    }

    // ---------------------------------------------------------------- 3: runs that compress nothing or less

    @Test
    void item3RunsThatPalettizeNothingOrLessSayWhyOnStderr() throws Exception {
        Path in = model("m.safetensors", 64, 512, 0.02, "a.weight", "b.weight");
        Path out = dir.resolve("out.safetensors");
        Run g7 = cli("palettize", in.toString(), out.toString(), "--granularity", "per-grouped-channel",
                "--group-size", "7", "--backend", "java");
        assertEquals(0, g7.exit(), g7.err());
        assertTrue(g7.err().contains("palettizer: warning: 2 tensors the spec chose were copied dense because the spec"
                + " does not fit their shapes"), g7.err());
        assertTrue(g7.err().contains("group_size 7 does not divide"), g7.err());
        assertTrue(g7.err().contains("palettizer: warning: no tensor was palettized; all 2 were copied"), g7.err());

        Path config = dir.resolve("c.yaml");
        Files.writeString(config, """
                kmeans_palettization_config:
                  module_type_configs: {Linaer: {op_state_spec: {weight: {n_bits: 2}}}}
                """);
        Run typo = cli("palettize", in.toString(), dir.resolve("c.safetensors").toString(), "--config", config.toString());
        assertEquals(0, typo.exit(), typo.err());
        assertTrue(typo.err().contains("palettizer: warning: config rule module_type_configs.Linaer matches no tensor"),
                typo.err());

        Run again = cli("palettize", out.toString(), dir.resolve("twice.safetensors").toString());
        Path pal = dir.resolve("pal.safetensors");
        assertEquals(0, cli("palettize", in.toString(), pal.toString()).exit());
        Set<String> before = files();
        assertRefused(cli("palettize", pal.toString(), dir.resolve("twice.safetensors").toString()), before,
                pal + " is palettized already", "palettizer decompress");
        assertEquals(0, again.exit(), "a plain copy is not compressed: " + again.err());
    }

    // ---------------------------------------------------------------- 4: output location, before any work

    @Test
    void item4OutputLocationsAreCheckedBeforeAnyWork() throws Exception {
        Path in = model("a.weight");
        Set<String> before = files();
        Path missing = dir.resolve("no/such/folder/out.safetensors");
        assertRefused(cli("palettize", in.toString(), missing.toString()), before,
                "cannot write output " + missing, "does not exist; create it first");
        assertRefused(cli("palettize", in.toString(), dir.toString()), before, "output " + dir + " is a folder");
        Path report = dir.resolve("gone/r.json");
        Path out = dir.resolve("out.safetensors");
        assertRefused(cli("palettize", in.toString(), out.toString(), "--report", report.toString()), before,
                "cannot write --report " + report);
        // Root ignores file modes; sysfs refuses new files to everyone.
        assumeTrue(Files.isDirectory(Path.of("/sys/kernel")));
        assertRefused(cli("palettize", in.toString(), "/sys/kernel/out.safetensors"), before,
                "cannot write output /sys/kernel/out.safetensors", "permission denied");
    }

    // ---------------------------------------------------------------- 5: unreadable input

    @Test
    void item5AnUnreadableInputSaysWhy() throws Exception {
        Path in = model("a.weight");
        Set<String> before = files();
        Path none = dir.resolve("none.safetensors");
        assertRefused(cli("palettize", none.toString(), dir.resolve("o.safetensors").toString()), before,
                "cannot read input " + none + ": no such file or directory");
        Path under = in.resolve("x.safetensors");
        assertRefused(cli("palettize", under.toString(), dir.resolve("o.safetensors").toString()), before,
                "cannot read input " + under + ": not a directory");
    }

    // ---------------------------------------------------------------- 6: out of memory

    @Test
    void item6OutOfMemoryNamesTheTensorAndTheFixInOneLine() throws Exception {
        // 8-bit exact on 2^18 distinct fp32 values: the dynamic program needs far more than 24 MB.
        Path in = model("big.safetensors", 512, 512, 0.02, "emb.weight");
        Path out = dir.resolve("big.pal.safetensors");
        Set<String> before = files();
        Run r = cli(List.of("-Xmx24m"), "palettize", in.toString(), out.toString(), "--bits", "8", "--no-fast",
                "--backend", "java", "--workers", "1");
        assertRefused(r, before, "out of memory: tensor 'emb.weight' [512,512] F32 (8-bit per-tensor, exact values)",
                "MiB Java heap", "PALETTIZER_JAVA_OPTS=-Xmx", "drop --no-fast");
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    // ---------------------------------------------------------------- 7: inspect plain files

    @Test
    void item7InspectDescribesAPlainSafetensorsFile() throws Exception {
        Path in = model("m.safetensors", 64, 64, 0.02, "z.first.weight", "a.second.weight");
        Run r = cli("inspect", in.toString());
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.get(1).startsWith("z.first.weight ") && lines.get(1).contains("plain F32"), r.out());
        assertTrue(lines.get(2).startsWith("a.second.weight "), "file order: " + r.out());
    }

    // ---------------------------------------------------------------- 9: flags

    @Test
    void item9FlagsThatDoNotApplyAndBadValuesAreUsageErrors() throws Exception {
        Path in = model("a.weight");
        Path out = dir.resolve("out.safetensors");
        Set<String> before = files();
        for (List<String> flags : List.of(List.of("--axis", "1"), List.of("--group-size", "16"),
                List.of("--onnx-output", "dense"), List.of("--bits", "5"), List.of("--bits", "four"),
                List.of("--no-fast", "--rounding-precision", "6"), List.of("--lut-qscheme", "asymmetric"),
                List.of("--granularity", "per-channel", "--group-size", "8"), List.of("--granularity", "per-row"))) {
            List<String> args = new ArrayList<>(List.of("palettize", in.toString(), out.toString()));
            args.addAll(flags);
            Run r = cli(args.toArray(String[]::new));
            assertEquals(2, r.exit(), flags + ": " + r.err());
            assertEquals(before, files(), flags + " wrote nothing");
        }
        Run onnxName = cli("palettize", in.toString(), dir.resolve("m.onnx").toString());
        assertEquals(2, onnxName.exit(), onnxName.err());
        assertTrue(onnxName.err().contains("must not be named .onnx"), onnxName.err());

        Run vectors = cli("palettize", in.toString(), out.toString(), "--cluster-dim", "2", "--backend", "java");
        assertEquals(0, vectors.exit(), vectors.err());
        assertTrue(vectors.err().contains("palettizer: note: --cluster-dim 2 clusters exact values"), vectors.err());

        Run help = cli("--help");
        assertEquals(0, help.exit());
        String helpText = help.out().replaceAll("\\s+", " ");
        assertTrue(helpText.contains("test (the test suite), bench (the JMH benchmarks), quality (the MiniLM quality"
                + " grid)"), help.out());
        Run palettizeHelp = cli("palettize", "--help");
        assertTrue(palettizeHelp.out().contains("per-channel"), palettizeHelp.out());
    }

    @Test
    void item9ADeviceNameThatBackendsListsPicksItsBackend() throws Exception {
        Run backends = cli("backends");
        List<String> lines = backends.out().lines().toList();
        int opencl = lines.indexOf(lines.stream().filter(l -> l.startsWith("opencl (rank")).findFirst().orElse(""));
        assumeTrue(opencl >= 0 && lines.get(opencl).contains(": available") && lines.get(opencl + 1).startsWith("  device 0: "),
                "an OpenCL device (PoCL) is listed: " + backends.out());
        String device = lines.get(opencl + 1).substring("  device 0: ".length()).split("[ \\-]")[0];
        Path in = model("a.weight");
        Run r = cli("palettize", in.toString(), dir.resolve("o.safetensors").toString(), "--device", device);
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("palettizer: backend opencl (device " + device + ")"), r.err());
    }

    // ---------------------------------------------------------------- 8: progress in a log

    @Test
    void item8ProgressInALogIsOnePlainLinePerTensorAndNothingWhenQuiet() throws Exception {
        Path in = model("a.weight", "b.weight");
        Run r = cli("palettize", in.toString(), dir.resolve("o.safetensors").toString(), "--backend", "java");
        assertEquals(0, r.exit(), r.err());
        assertFalse(r.err().contains("\r"), "no carriage-return frames in a log");
        assertEquals(2, r.err().lines().filter(l -> l.matches("palettizer: +[0-9.]+ % [ab]\\.weight")).count(), r.err());
        Run quiet = cli("palettize", in.toString(), dir.resolve("q.safetensors").toString(), "--backend", "java", "-q");
        assertEquals(0, quiet.exit(), quiet.err());
        assertEquals("", quiet.problems().strip(), quiet.err());
        assertFalse(quiet.err().contains("%"), quiet.err());
    }

    @Test
    void item8OnATerminalTheBarMovesWithinOneLargeTensor() throws Exception {
        Path script = Path.of("/usr/bin/script");
        assumeTrue(Files.isExecutable(script), "util-linux script gives the child a terminal");
        // One tensor of 64 channels of 262,144 values: per-channel histograms come in four batches.
        Path in = model("big.safetensors", 64, 262_144, 0.02, "big.weight");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "palettize", in.toString(), dir.resolve("o.safetensors").toString(),
                "--granularity", "per-channel", "--backend", "java"));
        String line = cmd.stream().map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
        Process p = new ProcessBuilder(script.toString(), "-qec", line, "/dev/null").redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String tty = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), tty);
        List<Integer> shown = java.util.regex.Pattern.compile("Palettizing +([0-9]+)%").matcher(tty).results()
                .map(m -> Integer.parseInt(m.group(1))).distinct().toList();
        // The bar redraws every 250 ms; the tensor reports each histogram batch, its seeding and its assignment.
        assertTrue(shown.stream().anyMatch(pct -> pct > 0 && pct < 100), "frames shown: " + shown);
        assertEquals(100, shown.getLast(), "frames shown: " + shown);
    }

    // ---------------------------------------------------------------- 10: reports

    @Test
    void item10ReportJsonCarriesGranularityModuleRuleAndTotals() throws Exception {
        Path in = model("m.safetensors", 64, 64, 0.02, "enc.fc.weight", "enc.out.weight");
        Path report = dir.resolve("r.json");
        Run r = cli("palettize", in.toString(), dir.resolve("o.safetensors").toString(), "--granularity",
                "per-grouped-channel", "--group-size", "16", "--report", report.toString(), "--backend", "java");
        assertEquals(0, r.exit(), r.err());
        JsonNode doc = new ObjectMapper().readTree(report.toFile());
        JsonNode t = doc.get("tensors").get(0);
        assertEquals("enc.fc.weight", t.get("name").asText(), "file order");
        assertEquals("per_grouped_channel", t.get("granularity").asText());
        assertEquals(16, t.get("group_size").asInt());
        assertEquals(0, t.get("axis").asInt());
        assertEquals("enc.fc", t.get("module_name").asText());
        assertEquals("one spec for all weights", t.get("rule").asText());
        assertEquals(2, doc.get("totals").get("palettized").asInt());
        assertTrue(doc.get("totals").get("bytes_before").asLong() > doc.get("totals").get("bytes_after").asLong());
    }

    @Test
    void item10InspectListsOnnxWeightsInFileOrderAndSaysWhenStoredTransposed() throws Exception {
        Path in = TinyOnnx.mixed(13, 8).write(dir.resolve("in.onnx"));
        Path out = dir.resolve("c.onnx");
        Run p = cli("palettize", in.toString(), out.toString(), "--weight-threshold", "256", "--backend", "java");
        assertEquals(0, p.exit(), p.err());
        Run r = cli("inspect", out.toString());
        assertEquals(0, r.exit(), r.err());
        List<String> names = r.out().lines().skip(1).map(l -> l.substring(0, l.indexOf(' '))).toList();
        assertEquals(List.of("onnx::MatMul_1", "encoder.layer.0.dense.bias", "dec.weight", "emb.weight", "conv.weight",
                "half.weight"), names, "initializer order: " + r.out());
        String matmul = r.out().lines().filter(l -> l.startsWith("onnx::MatMul_1 ")).findFirst().orElseThrow();
        assertTrue(matmul.contains("[64,96]") && matmul.contains("stored transposed"), matmul);
        int snrColumn = r.out().lines().findFirst().orElseThrow().indexOf("SNR dB");
        assertTrue(r.out().lines().allMatch(l -> l.length() <= snrColumn + "SNR dB".length()
                && l.charAt(snrColumn - 2) == ' '), "aligned columns: " + r.out());
    }
}
