package dev.palettizer.cli;

import static dev.palettizer.cli.CliSpecs.option;
import static dev.palettizer.cli.CliSpecs.positional;

import dev.palettizer.api.Palettizer;
import dev.palettizer.budget.BitBudget;
import dev.palettizer.budget.BudgetReport;
import dev.palettizer.budget.ErrorMeasure;
import dev.palettizer.budget.MixedBitsPalettizer;
import dev.palettizer.config.ConfigFiles;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.OnnxOutput;
import dev.palettizer.engine.Progress;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.model.WeightSite;
import dev.palettizer.spec.SpecException;
import dev.palettizer.spec.SpecResolver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

final class PalettizeCommand implements Callable<Integer> {
    Path in;
    Path out;

    final SpecOptions spec = new SpecOptions();
    final ConfigOptions config = new ConfigOptions();
    final RunOptions run = new RunOptions();

    Path sensitivities;
    Path report;

    Double targetBits;
    String budgetError;

    /** The spec flags a budget decides itself. */
    private static final List<String> BUDGET_DECIDES = List.of("--bits", "--granularity", "--group-size", "--axis");

    final ShardOptions shards = new ShardOptions();

    String onnxOutput;

    /** This command, once {@link #spec()} has made it: usage errors name it, and it tells which flags were given. */
    private CommandSpec command;

    /** The command line of palettize: its flags and those of its option groups, bound to this object's fields. */
    CommandSpec spec() {
        command = CliSpecs.command(this, "palettize",
                "Palettize the float tensors of a safetensors file into a compressed safetensors file, or the"
                + " float initializers of an ONNX model (.onnx) into a compressed or dense ONNX model.",
                "One spec for every tensor from the flags (--bits ...), or per module and op from --config FILE or"
                + " --preset NAME, which cannot be combined with those flags.");
        command.addPositional(positional(Path.class, v -> in = v, "0").paramLabel("<in>")
                .description("Input safetensors or ONNX file, or checkpoint folder (shards + index, or its"
                + " *.safetensors.index.json) (never modified).").build());
        command.addPositional(positional(Path.class, v -> out = v, "1").paramLabel("<out>")
                .description("Output file, same format as the input, or folder for a folder input (written"
                + " atomically).").build());
        command.addOption(option(Path.class, v -> sensitivities = v, "--sensitivities").paramLabel("<sensitivities>")
                .description("safetensors file of per-element sensitivities (same names and shapes).").build());
        command.addOption(option(Path.class, v -> report = v, "--report").paramLabel("<report>")
                .description("Write the per-tensor report as JSON to this file.").build());
        command.addOption(option(Double.class, v -> targetBits = v, "--target-bits").paramLabel("B")
                .description("Average bits per palettized weight, everything stored, a number in [1, 8]:"
                + " chooses each tensor's bits (1, 2, 3, 4, 6, 8) and granularity (per tensor,"
                + " per 32 output channels, per channel) to minimise the predicted error"
                + " (weighted by --sensitivities when given); the flags, --config or --preset"
                + " still choose the tensors and the rest of the spec. Overrides a config's"
                + " target_bits. Not with --bits, --granularity, --group-size, --axis, nor a"
                + " folder.").build());
        command.addOption(option(String.class, v -> budgetError = v, "--budget-error").paramLabel("MEASURE")
                .description("With a budget: what it minimises, output (each tensor's weighted SSE in the"
                + " sensitivities' units, else its SSE), relative (that divided by the tensor's"
                + " own weighted energy: each layer's noise-to-signal ratio) or measured (that"
                + " weighted SSE times the tensor's importance from 'calibrate --importance':"
                + " the predicted output distortion) (default: measured when --sensitivities"
                + " holds importances, else relative).").build());
        command.addOption(option(String.class, v -> onnxOutput = v, "--onnx-output").paramLabel("<onnxOutput>")
                .defaultValue("compressed")
                .description("ONNX input only: compressed (LUT + indices expanded in the graph) or dense"
                + " (reconstructed weights) (default: ${DEFAULT-VALUE}).").build());
        spec.addTo(command);
        config.addTo(command);
        run.addTo(command);
        shards.addTo(command);
        return command;
    }

    @Override
    public Integer call() throws Exception {
        checkPaths();
        SpecResolver resolver = config.resolver(spec);
        BitBudget budget = budget();
        FileJobOptions job = spec.job(resolver, sensitivities);
        Map<String, WeightSite> sites = InputChecks.check(in, job, System.err);
        spec.noteImpliedModes(System.err);
        long started = System.nanoTime();
        List<TensorReport> reports;
        BudgetReport budgeted = null;
        try (Palettizer p = run.palettizer(spec.engineOptions()); ConsoleProgress progress = run.progress()) {
            RunOptions.announce(p);
            boolean folder = ModelFiles.isFolder(in);
            long maxShardBytes = shards.maxShardBytes(in, folder);
            Path target = ModelFiles.isOnnx(in) ? ModelFiles.onnxOutput(in, out) : out;
            if (budget != null) {
                MixedBitsPalettizer.Result r = p.palettizeWithin(in, target, job, budget, OnnxOutput.parse(onnxOutput),
                        run.quiet ? Progress.NONE : new CurveLines(), progress);
                reports = r.tensors();
                budgeted = r.budget();
                job = budgeted.plan().apply(job);
            } else {
                reports = folder
                        ? p.palettizeFolder(in, out, job, maxShardBytes, progress)
                        : ModelFiles.isOnnx(in)
                        ? p.palettizeOnnx(in, target, job, OnnxOutput.parse(onnxOutput), progress)
                        : p.palettizeFile(in, out, job, progress);
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        ReportTable.print(reports, seconds, System.out);
        if (budgeted != null) {
            ReportTable.printBudget(budgeted, System.out);
        }
        RunWarnings.print(reports, System.err);
        if (report != null) {
            ReportJson.write(report, new ReportJson.Run(in, out, config.describe(spec), seconds), reports, job, sites,
                    budgeted);
        }
        return 0;
    }

    /** The flag's measure, else measured when the sensitivities hold importances, else relative. */
    private ErrorMeasure measure() throws IOException {
        return budgetError != null ? ErrorMeasure.parse(budgetError) : ErrorMeasure.defaultFor(sensitivities);
    }

    /**
     * The flag's budget, else the config's {@code target_bits}, else none. A flag out of range is a usage
     * error; a config's names the file and key.
     */
    private BitBudget budget() throws IOException {
        if (targetBits != null) {
            return new BitBudget(targetBits, measure()); // checked in checkPaths
        }
        if (config.config == null) {
            return null;
        }
        OptionalDouble bits = ConfigFiles.targetBits(config.config);
        if (bits.isEmpty()) {
            return null;
        }
        try {
            return new BitBudget(bits.getAsDouble(), measure());
        } catch (SpecException e) {
            throw new SpecException(config.config + ": target_bits: " + e.getMessage());
        }
    }

    /** One stderr line per tensor whose candidates are priced, before the run's own progress. */
    private static final class CurveLines implements Progress {
        private long total;
        private long done;

        @Override
        public synchronized void start(long totalElements) {
            total = Math.max(1, totalElements);
        }

        @Override
        public synchronized void done(String tensor, long elements) {
            done += elements;
            System.err.printf(Locale.ROOT, "palettizer: budget curves %5.1f %% %s%n", 100.0 * done / total, tensor);
        }
    }

    /** Before any work: flags that do not apply to these files (exit 2), then what cannot be read or written. */
    private void checkPaths() {
        boolean onnxIn = ModelFiles.isOnnx(in);
        if (!onnxIn && command.commandLine().getParseResult().hasMatchedOption("--onnx-output")) {
            throw new ParameterException(command.commandLine(), "--onnx-output applies to ONNX models only, and " + in
                    + " is a safetensors input; drop --onnx-output");
        }
        if (!onnxIn && ModelFiles.isOnnx(out)) {
            throw new ParameterException(command.commandLine(), in + " is written as safetensors, so the output must not"
                    + " be named .onnx, got " + out + "; use a .safetensors name");
        }
        if (targetBits != null) {
            List<String> decided = BUDGET_DECIDES.stream()
                    .filter(command.commandLine().getParseResult()::hasMatchedOption).toList();
            if (!decided.isEmpty()) {
                throw new ParameterException(command.commandLine(), String.join(", ", decided) + " cannot be combined"
                        + " with --target-bits: the budget chooses each tensor's bits and granularity; drop "
                        + String.join(", ", decided));
            }
            if (ModelFiles.isFolder(in)) {
                throw new ParameterException(command.commandLine(), "--target-bits is not supported for checkpoint"
                        + " folders; give it one safetensors or ONNX file");
            }
            try {
                new BitBudget(targetBits);
            } catch (SpecException e) {
                throw new ParameterException(command.commandLine(), "--target-bits: " + e.getMessage());
            }
        }
        try {
            if (budgetError != null) {
                ErrorMeasure.parse(budgetError);
            }
        } catch (SpecException e) {
            throw new ParameterException(command.commandLine(), "--budget-error: " + e.getMessage());
        }
        Preflight.readable(in, "input");
        if (sensitivities != null) {
            Preflight.readable(sensitivities, "--sensitivities file");
        }
        Preflight.output(in, out);
        if (report != null) {
            Preflight.writable(report, "--report");
        }
    }
}
