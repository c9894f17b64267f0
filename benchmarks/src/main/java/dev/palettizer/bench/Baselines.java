package dev.palettizer.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code benchmarks/baselines.json}: per benchmark, its median divided by the reference's median
 * in the run the baseline came from. Ratios, not times, so that a baseline taken on one machine
 * still means something on another of the same kind.
 */
final class Baselines {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Baselines() {}

    /** Benchmark name to ratio; empty when the file does not exist yet. */
    static Map<String, Double> read(Path file) throws IOException {
        Map<String, Double> out = new TreeMap<>();
        if (!Files.exists(file)) {
            return out;
        }
        JsonNode ratios = JSON.readTree(file.toFile()).path("ratios");
        for (Iterator<Map.Entry<String, JsonNode>> it = ratios.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), e.getValue().asDouble());
        }
        return out;
    }

    /**
     * Replaces the ratios of the benchmarks in this run and keeps the others, so that updating
     * from a filtered run does not drop the rest.
     */
    static void update(Path file, Map<String, Double> measured, String source) throws IOException {
        Map<String, Double> merged = read(file);
        merged.putAll(measured);
        ObjectNode root = JSON.createObjectNode();
        root.put("reference", ReferenceBenchmark.NAME);
        root.put("source", source);
        ObjectNode ratios = root.putObject("ratios");
        merged.forEach(ratios::put);
        Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
    }
}
