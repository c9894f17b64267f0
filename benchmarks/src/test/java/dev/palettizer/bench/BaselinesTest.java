package dev.palettizer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BaselinesTest {
    @Test
    void updateAppendsKeepsUnmeasuredAndTrimsHistory(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("baselines.json");
        Baselines.update(file, Map.of("a", 1.0, "b", 5.0), "run0.json");
        for (int i = 1; i <= Baselines.HISTORY; i++) {
            Baselines.update(file, Map.of("a", 1.0 + i), "run" + i + ".json");
        }
        Map<String, Baselines.Baseline> read = Baselines.read(file);
        // "a" keeps its last five ratios 2..6 (median 4); "b" was measured once and is kept.
        assertEquals(4.0, read.get("a").ratio());
        assertEquals(5.0, read.get("b").ratio());
        assertEquals(0.0, read.get("b").runToRunError());
    }
}
