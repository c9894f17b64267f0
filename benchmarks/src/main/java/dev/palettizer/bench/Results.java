package dev.palettizer.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Reads a JMH JSON results file ({@code -rf json}) into the {@link Score}s the gate and the report use. */
final class Results {
    private static final String PACKAGE = "dev.palettizer.bench.";
    private static final String ALLOC_NORM = "gc.alloc.rate.norm";

    private Results() {}

    /**
     * One benchmark (with its parameters) from one run.
     *
     * @param name short name, e.g. {@code KernelBenchmark.assign(bits=4,size=1048576)}
     * @param median median of the measured iterations (JMH's 50th percentile), in {@code unit}
     * @param relativeError standard error of the score relative to it: sample standard deviation of
     *     the iterations / mean / sqrt(samples); 0 with fewer than two samples
     * @param allocBytesPerOp bytes allocated per operation ({@code -prof gc}), NaN without the profiler
     */
    record Score(String name, double median, String unit, double relativeError, double allocBytesPerOp) {
        double seconds() {
            return median * secondsPer(unit);
        }
    }

    static List<Score> read(Path file) throws IOException {
        return parse(new ObjectMapper().readTree(file.toFile()));
    }

    static List<Score> parse(JsonNode root) {
        List<Score> out = new ArrayList<>();
        for (JsonNode b : root) {
            JsonNode primary = b.path("primaryMetric");
            List<Double> raw = new ArrayList<>();
            for (JsonNode fork : primary.path("rawData")) {
                for (JsonNode v : fork) {
                    raw.add(v.asDouble());
                }
            }
            JsonNode alloc = b.path("secondaryMetrics").path(ALLOC_NORM).path("score");
            out.add(new Score(name(b), primary.path("scorePercentiles").path("50.0").asDouble(),
                    primary.path("scoreUnit").asText(), relativeStandardError(raw),
                    alloc.isNumber() ? alloc.asDouble() : Double.NaN));
        }
        return out;
    }

    /** The benchmark method without this package, e.g. {@code PeerBenchmark.smile}. */
    static String shortName(String benchmark) {
        return benchmark.startsWith(PACKAGE) ? benchmark.substring(PACKAGE.length()) : benchmark;
    }

    private static String name(JsonNode b) {
        String name = shortName(b.path("benchmark").asText());
        Map<String, String> params = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = b.path("params").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> p = it.next();
            params.put(p.getKey(), p.getValue().asText());
        }
        if (params.isEmpty()) {
            return name;
        }
        StringBuilder s = new StringBuilder(name).append('(');
        params.forEach((k, v) -> s.append(k).append('=').append(v).append(','));
        s.setCharAt(s.length() - 1, ')');
        return s.toString();
    }

    private static double relativeStandardError(List<Double> raw) {
        int n = raw.size();
        if (n < 2) {
            return 0;
        }
        double mean = raw.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double ss = raw.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum();
        return Math.sqrt(ss / (n - 1)) / mean / Math.sqrt(n);
    }

    /** Seconds in one unit of a JMH time-per-operation score. */
    private static double secondsPer(String unit) {
        return switch (unit) {
            case "s/op" -> 1;
            case "ms/op" -> 1e-3;
            case "us/op" -> 1e-6;
            case "ns/op" -> 1e-9;
            default -> throw new IllegalArgumentException("score unit '" + unit
                    + "' is not a time per operation; run the benchmarks in AverageTime or SingleShotTime mode");
        };
    }
}
