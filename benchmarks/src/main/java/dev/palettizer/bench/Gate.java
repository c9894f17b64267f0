package dev.palettizer.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The performance regression gate. Each benchmark's median is divided by the median of
 * {@link ReferenceBenchmark} from the same run, and the ratio is compared with the stored
 * baseline ratio. A benchmark fails when its ratio grew by more than
 * {@code max(25 %, 3 x the measured relative error of the ratio)}. The error combines the
 * standard errors of the benchmark and of the reference in this run with the run-to-run spread of
 * the baseline's recorded ratios ({@link Baselines}): on a shared machine the load moves a run's
 * ratios by more than its iterations scatter.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.palettizer.bench.Gate results.json baselines.json [--update]}.
 * Exit status 0: all pass (or baselines updated); 1: a regression; 2: bad usage or input. On a
 * regression it also writes {@code <results>-failed.txt}, a JMH filter of the failed benchmarks, with
 * which {@code benchmarks/bench --gate} measures them once more: a shared machine's load can push one
 * run past the allowance, a real slowdown fails both times.
 */
public final class Gate {
    static final double THRESHOLD = 0.25;
    static final double NOISE_FACTOR = 3;

    enum Verdict { PASS, FAIL, NEW, REFERENCE }

    /**
     * @param ratio median / reference median
     * @param baseline median of the recorded ratios, NaN when there is none
     * @param allowed largest tolerated relative growth of the ratio
     */
    record Row(Results.Score score, double ratio, double baseline, double allowed, Verdict verdict) {
        double change() {
            return ratio / baseline - 1;
        }
    }

    private Gate() {}

    /** Judges every score of one run against the baselines; the run must contain the reference. */
    static List<Row> evaluate(List<Results.Score> scores, Map<String, Baselines.Baseline> baselines,
                              double threshold) {
        Results.Score ref = scores.stream().filter(s -> s.name().equals(ReferenceBenchmark.NAME)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("the results hold no " + ReferenceBenchmark.NAME
                        + "; run it in the same invocation (./benchmarks/bench always includes it)"));
        List<Row> rows = new ArrayList<>();
        for (Results.Score s : scores) {
            double ratio = s.seconds() / ref.seconds();
            Baselines.Baseline base = baselines.get(s.name());
            double runToRun = base == null ? 0 : base.runToRunError();
            double error = Math.sqrt(s.relativeError() * s.relativeError() + ref.relativeError() * ref.relativeError()
                    + runToRun * runToRun);
            double allowed = Math.max(threshold, NOISE_FACTOR * error);
            Verdict v;
            if (s == ref) {
                v = Verdict.REFERENCE;
            } else if (base == null) {
                v = Verdict.NEW;
            } else {
                v = ratio / base.ratio() - 1 > allowed ? Verdict.FAIL : Verdict.PASS;
            }
            rows.add(new Row(s, ratio, base == null ? Double.NaN : base.ratio(), allowed, v));
        }
        return rows;
    }

    /**
     * A JMH include regex matching exactly the failed benchmarks (parameters aside: the run's own
     * {@code -p} options fix them), so that a confirming run re-measures only those.
     */
    static String failedFilter(List<Row> rows) {
        return rows.stream().filter(r -> r.verdict() == Verdict.FAIL)
                .map(r -> r.score().name().replaceFirst("\\(.*\\)$", ""))
                .distinct()
                .map(n -> "\\." + n.replace(".", "\\.") + "$")
                .collect(Collectors.joining("|"));
    }

    static boolean passed(List<Row> rows) {
        return rows.stream().noneMatch(r -> r.verdict() == Verdict.FAIL);
    }

    static String table(List<Row> rows, double threshold) {
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                "Gate: ratio = median / median of %s (same run); fail when the ratio grows by more than "
                        + "max(%.0f%%, %.0f x relative error)%n%n", ReferenceBenchmark.NAME, threshold * 100, NOISE_FACTOR));
        out.append(String.format(Locale.ROOT, "%-52s | %16s | %10s | %10s | %8s | %7s | %s%n",
                "benchmark", "score (median)", "ratio", "baseline", "change", "allowed", "verdict"));
        out.append("-".repeat(130)).append(System.lineSeparator());
        for (Row r : rows) {
            boolean hasBase = !Double.isNaN(r.baseline());
            out.append(String.format(Locale.ROOT, "%-52s | %16s | %10.4g | %10s | %8s | %6.0f%% | %s%n",
                    r.score().name(), String.format(Locale.ROOT, "%.4g %s", r.score().median(), r.score().unit()),
                    r.ratio(), hasBase ? String.format(Locale.ROOT, "%.4g", r.baseline()) : "-",
                    hasBase ? String.format(Locale.ROOT, "%+.1f%%", r.change() * 100) : "-",
                    r.allowed() * 100, r.verdict()));
        }
        return out.toString();
    }

    public static void main(String[] args) throws IOException {
        boolean update = args.length == 3 && args[2].equals("--update");
        if (args.length != 2 && !update) {
            System.err.println("usage: Gate results.json baselines.json [--update]");
            System.exit(2);
        }
        Path results = Path.of(args[0]);
        Path baselineFile = Path.of(args[1]);
        List<Row> rows;
        try {
            rows = evaluate(Results.read(results), Baselines.read(baselineFile), THRESHOLD);
        } catch (IllegalArgumentException e) {
            System.err.println("gate: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.out.print(table(rows, THRESHOLD));
        if (update) {
            Map<String, Double> ratios = new LinkedHashMap<>();
            rows.forEach(r -> ratios.put(r.score().name(), r.ratio()));
            Baselines.update(baselineFile, ratios, results.getFileName().toString());
            System.out.println("\nbaselines updated (this run's ratios appended): " + baselineFile);
            return;
        }
        boolean ok = passed(rows);
        System.out.println(ok ? "\nGATE PASSED" : "\nGATE FAILED: a benchmark is slower than its baseline allows");
        if (!ok) {
            Path failed = results.resolveSibling(results.getFileName().toString().replaceFirst("\\.json$", "") + "-failed.txt");
            Files.writeString(failed, failedFilter(rows) + "\n");
            System.out.println("JMH filter of the failed benchmarks (for a confirming run): " + failed);
        }
        System.exit(ok ? 0 : 1);
    }
}
