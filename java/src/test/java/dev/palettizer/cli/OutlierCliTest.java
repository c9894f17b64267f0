package dev.palettizer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.Palettizer;
import dev.palettizer.config.ConfigFiles;
import dev.palettizer.config.KMeansPalettizerConfig;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import dev.palettizer.model.SparseOutliers;
import dev.palettizer.spec.PalettizationSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code --outlier-fraction} and the {@code outlier_fraction} config key, end to end. */
class OutlierCliTest {
    @TempDir
    Path dir;

    private float[] weight;

    private Path model() throws IOException {
        SplittableRandom r = new SplittableRandom(3);
        weight = new float[64 * 64];
        for (int i = 0; i < weight.length; i++) {
            weight[i] = (float) (r.nextGaussian() * (i % 61 == 0 ? 1.0 : 0.02));
        }
        Path p = dir.resolve("m.safetensors");
        new SafetensorsWriter().add(new SafetensorsWriter.Tensor("layer.weight", DType.F32, new long[] {64, 64},
                SafetensorsWriter.Payload.ofFloats(weight))).write(p);
        return p;
    }

    private void assertNoOutput() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "only the model is there");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.1", "0.2", "0", "-0.001", "NaN"})
    void sharesOutsideTheOpenIntervalAreUsageErrors(String fraction) throws IOException {
        Path in = model();
        CliTest.Run r = CliTest.run("palettize", in.toString(), dir.resolve("out.safetensors").toString(),
                "--outlier-fraction", fraction);
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().startsWith("--outlier-fraction must be in (0, 0.1), a share of each tensor's elements"
                + " (e.g. 0.005 for 0.5 %), got "), r.err());
        assertNoOutput();
    }

    @Test
    void theFlagKeepsTheLargestWeightsExactThroughDecompress() throws IOException {
        Path in = model();
        Path out = dir.resolve("out.safetensors");
        Path report = dir.resolve("report.json");
        CliTest.Run p = CliTest.run("palettize", in.toString(), out.toString(), "--bits", "3", "--outlier-fraction", "0.02",
                "--no-fast", "--report", report.toString());
        assertEquals(0, p.exit(), p.err());
        com.fasterxml.jackson.databind.JsonNode row = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(report.toFile()).get("tensors").get(0);
        assertEquals(82, row.get("outliers").asInt(), row.toString());
        assertFalse(row.get("ragged_last_group").asBoolean(), row.toString());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(DType.I32, f.tensor("layer.weight.outlier_positions").orElseThrow().dtype());
            assertEquals(82, f.tensor("layer.weight.outlier_values").orElseThrow().shape()[0]);
        }
        CliTest.Run inspect = CliTest.run("inspect", out.toString());
        assertEquals(0, inspect.exit(), inspect.err());
        assertTrue(inspect.out().contains("+82 outliers"), inspect.out());
        Path dense = dir.resolve("dense.safetensors");
        assertEquals(0, CliTest.run("decompress", out.toString(), dense.toString()).exit());
        float[] back = new float[weight.length];
        try (SafetensorsFile f = SafetensorsFile.open(dense)) {
            f.tensor("layer.weight").orElseThrow().floats().read(0, back, 0, back.length);
        }
        SparseOutliers o = Palettizer.inspect(out).palettized().getFirst().outliers();
        int large = 0;
        for (long at : o.positions()) {
            assertEquals(weight[(int) at], back[(int) at], 0f, "element " + at + " exact");
            large += at % 61 == 0 ? 1 : 0;
        }
        assertTrue(large >= 60, "the elements drawn with 50x the spread are the outliers: " + large + " of 68");
    }

    @Test
    void configsTakeTheKeyAtEveryLevelAndNameItWhenBad() throws IOException {
        Path in = model();
        Path out = dir.resolve("out.safetensors");
        Path config = dir.resolve("bad.yaml");
        Files.writeString(config, """
                kmeans_palettization_config:
                  module_name_configs:
                    "layer":
                      op_state_spec:
                        weight: {n_bits: 4, outlier_fraction: 0.25}
                """);
        CliTest.Run bad = CliTest.run("palettize", in.toString(), out.toString(), "--config", config.toString());
        assertTrue(bad.exit() != 0);
        assertTrue(bad.err().contains(config + ": module_name_configs.layer.op_state_spec.weight.outlier_fraction:"
                + " outlier_fraction must be in (0, 0.1)"), bad.err());
        assertFalse(Files.exists(out));

        Files.writeString(config, "kmeans_palettization_config: {global_config: {op_state_spec: {weight:"
                + " {n_bits: 4, outlier_fraction: 0.005}}}}");
        KMeansPalettizerConfig c = ConfigFiles.load(config);
        PalettizationSpec global = c.globalConfig().opStateSpec().get("weight");
        assertEquals(0.005, global.outlierFraction());
        assertEquals(c, ConfigFiles.parse(ConfigFiles.toYaml(c), ConfigFiles.Format.YAML, "again"), "round trip");
        CliTest.Run ok = CliTest.run("palettize", in.toString(), out.toString(), "--config", config.toString());
        assertEquals(0, ok.exit(), ok.err());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(20, f.tensor("layer.weight.outlier_positions").orElseThrow().shape()[0]);
        }
    }
}
