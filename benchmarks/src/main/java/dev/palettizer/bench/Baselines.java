package dev.palettizer.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code benchmarks/baselines.json}: per benchmark, its ratio (median / reference median, same run)
 * in each of the last {@link #HISTORY} runs recorded with {@code --update}. Ratios, not times, so
 * that a baseline means something on another machine of the same kind; several runs, because on a
 * shared machine one run's ratio moves by 10-25 % with the load, and that spread is itself a
 * measured error the gate must allow for.
 */
final class Baselines {
    static final int HISTORY = 5;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Baselines() {}

    /**
     * @param ratio median of the recorded ratios
     * @param runToRunError their sample standard deviation relative to the mean; 0 from one run
     */
    record Baseline(double ratio, double runToRunError) {
        static Baseline of(List<Double> ratios) {
            double[] sorted = ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            int n = sorted.length;
            double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
            if (n < 2) {
                return new Baseline(median, 0);
            }
            double mean = ratios.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            double ss = ratios.stream().mapToDouble(r -> (r - mean) * (r - mean)).sum();
            return new Baseline(median, Math.sqrt(ss / (n - 1)) / mean);
        }
    }

    static Map<String, Baseline> read(Path file) throws IOException {
        Map<String, Baseline> out = new TreeMap<>();
        history(file).forEach((name, ratios) -> out.put(name, Baseline.of(ratios)));
        return out;
    }

    /** Benchmark name to its recorded ratios, oldest first; empty when the file does not exist yet. */
    private static Map<String, List<Double>> history(Path file) throws IOException {
        Map<String, List<Double>> out = new TreeMap<>();
        if (!Files.exists(file)) {
            return out;
        }
        JsonNode benchmarks = JSON.readTree(file.toFile()).path("ratios");
        for (Iterator<Map.Entry<String, JsonNode>> it = benchmarks.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            List<Double> ratios = new ArrayList<>();
            e.getValue().forEach(v -> ratios.add(v.asDouble()));
            out.put(e.getKey(), ratios);
        }
        return out;
    }

    /**
     * Appends this run's ratios (keeping the last {@link #HISTORY} per benchmark) and keeps the
     * benchmarks this run did not measure, so that updating from a filtered run drops nothing.
     */
    static void update(Path file, Map<String, Double> measured, String source) throws IOException {
        Map<String, List<Double>> history = history(file);
        List<String> sources = new ArrayList<>();
        if (Files.exists(file)) {
            JSON.readTree(file.toFile()).path("sources").forEach(s -> sources.add(s.asText()));
        }
        sources.add(source);
        measured.forEach((name, ratio) -> {
            List<Double> ratios = history.computeIfAbsent(name, n -> new ArrayList<>());
            ratios.add(ratio);
            if (ratios.size() > HISTORY) {
                ratios.removeFirst();
            }
        });
        ObjectNode root = JSON.createObjectNode();
        root.put("reference", ReferenceBenchmark.NAME);
        ArrayNode s = root.putArray("sources");
        sources.subList(Math.max(0, sources.size() - HISTORY), sources.size()).forEach(s::add);
        ObjectNode ratios = root.putObject("ratios");
        history.forEach((name, values) -> values.forEach(ratios.putArray(name)::add));
        Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
    }
}
