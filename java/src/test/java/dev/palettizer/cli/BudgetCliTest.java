package dev.palettizer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code palettize --target-bits} and a config's {@code target_bits}, end to end through the command line. */
class BudgetCliTest {
    @TempDir
    Path dir;

    private Path model() throws Exception {
        Path p = dir.resolve("m.safetensors");
        SplittableRandom r = new SplittableRandom(3);
        SafetensorsWriter w = new SafetensorsWriter();
        for (String name : List.of("a.weight", "b.weight")) {
            float[] v = new float[128 * 256];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (r.nextGaussian() * (name.startsWith("a") ? 0.02 : 0.1));
            }
            w.add(new SafetensorsWriter.Tensor(name, DType.F32, new long[] {128, 256}, SafetensorsWriter.Payload.ofFloats(v)));
        }
        w.write(p);
        return p;
    }

    private void assertNoOutput(Path out) throws Exception {
        assertFalse(Files.exists(out), "no output");
        try (var files = Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().startsWith(".")).toList());
        }
    }

    @Test
    void theFlagChoosesBitsAndReportsPredictedAndAchieved() throws Exception {
        Path in = model();
        Path out = dir.resolve("o.safetensors");
        Path report = dir.resolve("r.json");
        CliTest.Run run = CliTest.run("palettize", in.toString(), out.toString(), "--target-bits", "3.5", "-q",
                "--report", report.toString());
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("budget: 3.5 bits per weight"), run.out());
        assertTrue(run.out().contains("predicted error") && run.out().contains("achieved error"), run.out());
        JsonNode doc = new ObjectMapper().readTree(report.toFile());
        JsonNode b = doc.get("budget");
        assertEquals(3.5, b.get("target_bits").asDouble());
        assertTrue(b.get("file_bits_per_weight").asDouble() <= 3.5, b.toString());
        assertEquals(b.get("predicted_error").asDouble(), b.get("achieved_error").asDouble(),
                1e-9 * b.get("predicted_error").asDouble());
        assertEquals(2, b.get("tensors").size());
        for (JsonNode t : doc.get("tensors")) {
            JsonNode chosen = null;
            for (JsonNode c : b.get("tensors")) {
                if (c.get("name").asText().equals(t.get("name").asText())) {
                    chosen = c;
                }
            }
            assertEquals(chosen.get("n_bits").asInt(), t.get("n_bits").asInt());
            assertTrue(chosen.get("granularity").asText().startsWith(t.get("granularity").asText()), t.toString());
            assertTrue(t.get("rule").asText().contains("from the budget of 3.5 bits"), t.toString());
        }
    }

    /** Sensitivities of the model's shapes, with importances in the metadata when {@code importances} is set. */
    private Path sensitivities(boolean importances) throws Exception {
        Path p = dir.resolve(importances ? "si.safetensors" : "s.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        for (String name : List.of("a.weight", "b.weight")) {
            float[] s = new float[128 * 256];
            java.util.Arrays.fill(s, 1);
            w.add(new SafetensorsWriter.Tensor(name, DType.F32, new long[] {128, 256}, SafetensorsWriter.Payload.ofFloats(s)));
            if (importances) {
                w.putMetadata(dev.palettizer.budget.Importances.key(name), name.startsWith("a") ? "100" : "0.01");
            }
        }
        w.write(p);
        return p;
    }

    /** Importances in the sensitivities file make measured the default; the flag still chooses. */
    @Test
    void importancesMakeTheMeasuredErrorTheDefault() throws Exception {
        Path in = model();
        for (String[] c : new String[][] {{"si.safetensors", "", "measured"}, {"s.safetensors", "", "relative"},
                {"si.safetensors", "relative", "relative"}}) {
            Path sens = sensitivities(c[0].startsWith("si"));
            Path report = dir.resolve("r.json");
            List<String> args = new java.util.ArrayList<>(List.of("palettize", in.toString(),
                    dir.resolve("o.safetensors").toString(), "--target-bits", "3.5", "-q", "--report", report.toString(),
                    "--sensitivities", sens.toString()));
            if (!c[1].isEmpty()) {
                args.addAll(List.of("--budget-error", c[1]));
            }
            CliTest.Run run = CliTest.run(args.toArray(String[]::new));
            assertEquals(0, run.exit(), run.err());
            JsonNode b = new ObjectMapper().readTree(report.toFile()).get("budget");
            assertEquals(c[2], b.get("error_measure").asText(), String.join(" ", c));
            Files.delete(dir.resolve("o.safetensors"));
        }
    }

    @Test
    void theMeasuredErrorWithoutImportancesNamesTheFileAndTheFix() throws Exception {
        Path in = model();
        Path out = dir.resolve("o.safetensors");
        CliTest.Run run = CliTest.run("palettize", in.toString(), out.toString(), "--target-bits", "3.5", "-q",
                "--sensitivities", sensitivities(false).toString(), "--budget-error", "measured");
        assertEquals(1, run.exit(), run.err());
        assertTrue(run.err().contains("s.safetensors") && run.err().contains("calibrate --importance"), run.err());
        assertNoOutput(out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.5", "8.5", "NaN", "-1", "four"})
    void aBudgetOutsideOneToEightIsAUsageError(String bits) throws Exception {
        Path out = dir.resolve("o.safetensors");
        CliTest.Run run = CliTest.run("palettize", model().toString(), out.toString(), "--target-bits", bits);
        assertEquals(2, run.exit(), run.err());
        assertTrue(run.err().contains("--target-bits"), run.err());
        assertNoOutput(out);
    }

    @Test
    void aBudgetOfOneBitCannotHoldTheLutsAndSaysWhatWould() throws Exception {
        Path out = dir.resolve("o.safetensors");
        CliTest.Run run = CliTest.run("palettize", model().toString(), out.toString(), "--target-bits", "1");
        assertEquals(1, run.exit(), run.err());
        assertTrue(run.err().contains("cannot be met") && run.err().contains("give at least"), run.err());
        assertNoOutput(out);
    }

    @Test
    void flagsTheBudgetDecidesAreRefused() throws Exception {
        Path out = dir.resolve("o.safetensors");
        CliTest.Run run = CliTest.run("palettize", model().toString(), out.toString(), "--target-bits", "4",
                "--bits", "3");
        assertEquals(2, run.exit(), run.err());
        assertTrue(run.err().contains("--bits cannot be combined with --target-bits"), run.err());
        assertNoOutput(out);
    }

    @Test
    void aConfigsTargetBitsIsUsedAndTheFlagOverridesIt() throws Exception {
        Path in = model();
        Path config = dir.resolve("c.yaml");
        Files.writeString(config, "target_bits: 4.5\nkmeans_palettization_config:\n  global_config: {}\n");
        Path out = dir.resolve("o.safetensors");
        CliTest.Run run = CliTest.run("palettize", in.toString(), out.toString(), "--config", config.toString(), "-q");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("budget: 4.5 bits per weight"), run.out());
        Path out2 = dir.resolve("o2.safetensors");
        run = CliTest.run("palettize", in.toString(), out2.toString(), "--config", config.toString(), "-q",
                "--target-bits", "2.5");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("budget: 2.5 bits per weight"), run.out());
    }

    @Test
    void aConfigsBadTargetBitsNamesTheFileAndKey() throws Exception {
        Path in = model();
        Path out = dir.resolve("o.safetensors");
        for (String value : List.of("9", "0.5", "'four'", "[4]", "null")) {
            Path config = dir.resolve("c.yaml");
            Files.writeString(config, "target_bits: " + value + "\nkmeans_palettization_config:\n  global_config: {}\n");
            CliTest.Run run = CliTest.run("palettize", in.toString(), out.toString(), "--config", config.toString());
            assertEquals(1, run.exit(), value + ": " + run.err());
            assertTrue(run.err().contains(config + ": target_bits: "), run.err());
            assertNoOutput(out);
        }
        Path config = dir.resolve("c.yaml");
        Files.writeString(config, "target_bit: 4\nkmeans_palettization_config:\n  global_config: {}\n");
        CliTest.Run run = CliTest.run("palettize", in.toString(), out.toString(), "--config", config.toString());
        assertEquals(1, run.exit(), run.err());
        assertTrue(run.err().contains("target_bit") && run.err().contains("optionally [target_bits]"), run.err());
        assertNoOutput(out);
    }
}
