package dev.palettizer.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns one results file into the README's markdown (stdout): the machine, every median with its
 * ratio to the reference and its allocation, the peers next to ours, and the stated targets.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.palettizer.bench.Report [--into README.md] results.json [sse.json]};
 * with {@code --into}, the table also replaces the file's {@code bench} block ({@link MarkdownBlock});
 * the SSE file defaults to {@code <results>-sse.json} beside the results. Run it on the machine
 * that produced the results: the machine line comes from {@code lscpu}.
 */
public final class Report {
    private static final double MIB = 1 << 20;
    private static final String OURS = "PeerBenchmark.ours";
    /** Our two ways of clustering the subsample: the default fast mode and exact values. */
    private static final List<String> OUR_MODES = List.of(OURS, "PeerBenchmark.oursNoFast");
    private static final List<String> PEERS = List.of("PeerBenchmark.smile", "PeerBenchmark.commonsMath");

    private final Map<String, Results.Score> scores = new LinkedHashMap<>();
    private final JsonNode sse;
    private final StringBuilder out = new StringBuilder();

    private Report(List<Results.Score> scores, JsonNode sse) {
        scores.forEach(s -> this.scores.put(s.name(), s));
        this.sse = sse;
    }

    public static void main(String[] args) throws IOException {
        Path into = null;
        if (args.length >= 2 && args[0].equals("--into")) {
            into = Path.of(args[1]);
            args = java.util.Arrays.copyOfRange(args, 2, args.length);
        }
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: Report [--into README.md] results.json [sse.json]");
            System.exit(2);
        }
        Path results = Path.of(args[0]);
        Path sseFile = args.length == 2 ? Path.of(args[1])
                : results.resolveSibling(results.getFileName().toString().replaceFirst("\\.json$", "") + "-sse.json");
        ObjectMapper json = new ObjectMapper();
        JsonNode root = json.readTree(results.toFile());
        JsonNode sse = Files.exists(sseFile) ? json.readTree(sseFile.toFile()) : json.createObjectNode();
        Report r = new Report(Results.parse(root), sse);
        r.header(results, root);
        r.all();
        r.peers();
        r.targets();
        System.out.print(r.out);
        if (into != null) {
            MarkdownBlock.replace(into, "bench", r.out.toString());
        }
    }

    private void line(String format, Object... args) {
        out.append(String.format(Locale.ROOT, format, args)).append('\n');
    }

    private void header(Path results, JsonNode root) throws IOException {
        String date = DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneOffset.UTC)
                .format(Files.getLastModifiedTime(results).toInstant());
        JsonNode first = root.path(0);
        line("Machine: %s. JDK %s (%s). Run %s, `%s`. Figures are medians of the measured iterations"
                        + " (1 fork); ratio = median / median of `%s` in the same run.",
                machine(), first.path("jdkVersion").asText("?"), first.path("vmName").asText("?"), date,
                results.getFileName(), ReferenceBenchmark.NAME);
        line("");
    }

    /** {@code lscpu}'s model name and CPU count. */
    private static String machine() {
        try {
            Process p = new ProcessBuilder("lscpu").redirectErrorStream(true).start();
            String model = "unknown CPU";
            String cpus = String.valueOf(Runtime.getRuntime().availableProcessors());
            for (String l : new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (l.startsWith("Model name:")) {
                    model = l.substring(l.indexOf(':') + 1).trim();
                } else if (l.startsWith("CPU(s):")) {
                    cpus = l.substring(l.indexOf(':') + 1).trim();
                }
            }
            return model + ", " + cpus + " cores (lscpu)";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run lscpu", e);
        }
    }

    private void all() {
        line("| Benchmark | Median | Rel. std. error | Ratio | Alloc/op |");
        line("|---|---:|---:|---:|---:|");
        Results.Score ref = scores.get(ReferenceBenchmark.NAME);
        for (Results.Score s : scores.values()) {
            line("| %s | %s | %.1f%% | %s | %s |", s.name(), time(s.seconds()), s.relativeError() * 100,
                    ref == null ? "-" : String.format(Locale.ROOT, "%.4g", s.seconds() / ref.seconds()),
                    Double.isNaN(s.allocBytesPerOp()) ? "-"
                            : String.format(Locale.ROOT, "%.1f MiB", s.allocBytesPerOp() / MIB));
        }
        line("");
    }

    private void peers() {
        Results.Score ours = scores.get(OURS);
        if (ours == null) {
            return;
        }
        line("k-means, 16 clusters, on the %s. SSE: each value to its nearest centroid.",
                sse.path("subsample").asText(WeightMatrix.SUBSAMPLE_TEXT));
        line("");
        line("| Method | Median | SSE on subsample | SSE vs ours | Time / ours |");
        line("|---|---:|---:|---:|---:|");
        double oursSse = sseOf(OURS);
        for (Results.Score s : scores.values()) {
            if (s.name().startsWith("PeerBenchmark.")) {
                double e = sseOf(s.name());
                line("| %s | %s | %.6g | %+.4f%% | %.1fx |", s.name(), time(s.seconds()), e,
                        (e / oursSse - 1) * 100, s.seconds() / ours.seconds());
            }
        }
        line("");
    }

    private double sseOf(String name) {
        JsonNode v = sse.path("sse").path(name);
        return v.isNumber() ? v.asDouble() : Double.NaN;
    }

    private void targets() {
        line("| Target | Measured | Verdict |");
        line("|---|---:|---|");
        atMost("EndToEndBenchmark.perTensor4Bit", "per-tensor 4-bit 4096x4096 <= 0.3 s", 0.3);
        atMost("EndToEndBenchmark.perChannelWeighted4Bit", "per-channel weighted 4-bit 4096x4096 <= 3 s", 3);
        for (String peer : PEERS) {
            if (scores.containsKey(peer)) {
                line("| >= 20x faster than %s at equal or lower SSE | %s | %s |", peer,
                        OUR_MODES.stream().filter(scores::containsKey).map(m -> versus(m, peer))
                                .reduce((a, b) -> a + "; " + b).orElse("-"),
                        OUR_MODES.stream().anyMatch(m -> beats(m, peer)) ? "met" : "missed");
            }
        }
        line("");
        line("Peak memory is measured by `PeakHeap` (`benchmarks/bench --peak-heap`), not from allocation rates.");
    }

    /** E.g. "ours: 12.1x, SSE -0.470%" (negative: ours is lower). */
    private String versus(String ours, String peer) {
        return String.format(Locale.ROOT, "%s: %.1fx, SSE %+.4f%%", ours.substring(ours.indexOf('.') + 1),
                speedup(ours, peer), (sseOf(ours) / sseOf(peer) - 1) * 100);
    }

    private boolean beats(String ours, String peer) {
        return scores.containsKey(ours) && speedup(ours, peer) >= 20 && sseOf(ours) <= sseOf(peer);
    }

    private double speedup(String ours, String peer) {
        return scores.get(peer).seconds() / scores.get(ours).seconds();
    }

    private void atMost(String name, String what, double limitSeconds) {
        Results.Score s = scores.get(name);
        if (s != null) {
            line("| %s | %s | %s |", what, time(s.seconds()), s.seconds() <= limitSeconds ? "met"
                    : String.format(Locale.ROOT, "missed by %.0f%%", (s.seconds() / limitSeconds - 1) * 100));
        }
    }

    private static String time(double seconds) {
        if (seconds >= 1) {
            return String.format(Locale.ROOT, "%.3f s", seconds);
        }
        if (seconds >= 1e-3) {
            return String.format(Locale.ROOT, "%.2f ms", seconds * 1e3);
        }
        return String.format(Locale.ROOT, "%.1f µs", seconds * 1e6);
    }
}
