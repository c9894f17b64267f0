package dev.palettizer.cli;

import static dev.palettizer.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.api.Palettizer;
import dev.palettizer.cli.CliTest.Run;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.Granularity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --ragged-last-group} and {@code allow_ragged_last_group}: 50 rows in groups of 16. */
class RaggedLastGroupCliTest {
    @TempDir
    Path dir;

    private Path model() throws IOException {
        SplittableRandom r = new SplittableRandom(5);
        float[] w = new float[50 * 64];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * 0.02);
        }
        Path p = dir.resolve("m.safetensors");
        new SafetensorsWriter()
                .add(new SafetensorsWriter.Tensor("embed.weight", DType.F32, new long[] {50, 64},
                        SafetensorsWriter.Payload.ofFloats(w)))
                .write(p);
        return p;
    }

    private static float[] dense(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            SafetensorsFile.Entry e = f.tensor("embed.weight").orElseThrow();
            float[] out = new float[(int) e.elementCount()];
            e.floats().read(0, out, 0, out.length);
            return out;
        }
    }

    @Test
    void theFlagPalettizesWhatGroupsOf16LeaveDenseAndDecompressRebuildsItExactly() throws IOException {
        Path in = model();
        Path plain = dir.resolve("plain.safetensors");
        Run skipped = run("palettize", in.toString(), plain.toString(), "--granularity", "per-grouped-channel",
                "--group-size", "16");
        assertEquals(0, skipped.exit(), skipped.err());
        assertTrue(Palettizer.inspect(plain).palettized().isEmpty(), "without the flag the tensor stays dense");
        assertTrue(skipped.err().contains("--ragged-last-group (groups along axis 0)"), skipped.err());

        Path out = dir.resolve("ragged.safetensors");
        Path report = dir.resolve("report.json");
        Run r = run("palettize", in.toString(), out.toString(), "--granularity", "per-grouped-channel",
                "--group-size", "16", "--ragged-last-group", "--report", report.toString());
        assertEquals(0, r.exit(), r.err());
        com.fasterxml.jackson.databind.JsonNode row = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(report.toFile()).get("tensors").get(0);
        assertTrue(row.get("ragged_last_group").asBoolean(), row.toString());
        assertTrue(row.get("outliers").isNull(), row.toString());
        PalettizedTensor t = Palettizer.inspect(out).palettized("embed.weight").orElseThrow();
        assertEquals(4, t.groups());
        assertEquals(Granularity.groupedRagged(16), t.spec().granularity());

        Path restored = dir.resolve("dense.safetensors");
        assertEquals(0, run("decompress", out.toString(), restored.toString()).exit());
        float[] rebuilt;
        try (Palettizer p = Palettizer.builder().build()) {
            rebuilt = p.reconstruct(t);
        }
        assertArrayEquals(rebuilt, dense(restored), "decompress writes the reconstruction bit for bit");
        // Rows 48 and 49 form the last group: at most 16 distinct values there, from their own LUT.
        float[] lastLut = java.util.Arrays.copyOfRange(t.lut(), 3 * 16, 4 * 16);
        for (int i = 48 * 64; i < rebuilt.length; i++) {
            float v = rebuilt[i];
            assertTrue(java.util.stream.IntStream.range(0, 16).anyMatch(e -> lastLut[e] == v), "element " + i);
        }

        Run inspect = run("inspect", out.toString());
        assertEquals(0, inspect.exit(), inspect.err());
        assertTrue(inspect.out().contains("group 16 axis 0 ragged"), inspect.out());
    }

    @Test
    void theFlagIsAUsageErrorWithoutGroupsAlongTheOutputChannels() throws IOException {
        Path in = model();
        Path out = dir.resolve("out.safetensors");
        Run perTensor = run("palettize", in.toString(), out.toString(), "--ragged-last-group");
        assertEquals(2, perTensor.exit(), perTensor.err());
        assertTrue(perTensor.err().startsWith("--ragged-last-group applies to --granularity per-grouped-channel only"),
                perTensor.err());
        Run perChannel = run("palettize", in.toString(), out.toString(), "--granularity", "per-channel",
                "--ragged-last-group");
        assertEquals(2, perChannel.exit(), perChannel.err());
        Run axis1 = run("palettize", in.toString(), out.toString(), "--granularity", "per-grouped-channel", "--axis", "1",
                "--ragged-last-group");
        assertEquals(2, axis1.exit(), axis1.err());
        assertTrue(axis1.err().startsWith("a ragged last group is not supported along axis 1"), axis1.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void theConfigKeySitsNextToGroupSize() throws IOException {
        Path in = model();
        Path config = dir.resolve("c.yaml");
        Files.writeString(config, """
                kmeans_palettization_config:
                  global_config:
                    op_state_spec:
                      weight:
                        granularity: {type: per_grouped_channel, axis: 0, group_size: 16, allow_ragged_last_group: true}
                """);
        Path out = dir.resolve("c.safetensors");
        Run r = run("palettize", in.toString(), out.toString(), "--config", config.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(4, Palettizer.inspect(out).palettized("embed.weight").orElseThrow().groups());

        Files.writeString(config, Files.readString(config).replace("axis: 0", "axis: 1"));
        Path bad = dir.resolve("bad.safetensors");
        Run axis1 = run("palettize", in.toString(), bad.toString(), "--config", config.toString());
        assertEquals(1, axis1.exit(), axis1.err());
        assertTrue(axis1.err().contains("granularity.allow_ragged_last_group: a ragged last group is not supported"
                + " along axis 1"), axis1.err());
        assertFalse(Files.exists(bad));
    }
}
