package dev.palettizer.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The SSE each peer benchmark achieved, kept in {@code target/bench-sse.json} beside the
 * benchmarks jar. JMH's @AuxCounters would sum a per-iteration value over iterations, so a plain
 * file is the honest record. Forks run one after another, so read-merge-write is safe.
 */
final class SseRecord {
    static final String FILE_NAME = "bench-sse.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private SseRecord() {}

    /** {@code target/} when running from the shaded jar or from {@code target/classes}. */
    static Path file() {
        try {
            Path code = Path.of(SseRecord.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return code.getParent().resolve(FILE_NAME);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the benchmarks jar", e);
        }
    }

    static void put(String benchmark, double sse) {
        Path file = file();
        try {
            ObjectNode root = Files.exists(file) ? (ObjectNode) JSON.readTree(file.toFile()) : JSON.createObjectNode();
            root.put("subsample", WeightMatrix.SUBSAMPLE_TEXT);
            ObjectNode entries = root.has("sse") ? (ObjectNode) root.get("sse") : root.putObject("sse");
            entries.put(Results.shortName(benchmark), sse);
            JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the SSE in " + file, e);
        }
    }
}
