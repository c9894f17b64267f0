package dev.palettizer.calibrate;

import dev.palettizer.io.ModelFormatException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code palettizer calibrate MODEL.onnx --out stats.safetensors (--inputs data.safetensors | --texts file.txt
 * | --builtin-texts) [--tokenizer tokenizer.json] [--max-samples N]}: runs the model in ONNX Runtime on
 * calibration data and writes per-weight sensitivities that {@code palettize --sensitivities} accepts.
 */
@Command(name = "calibrate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run an ONNX model in ONNX Runtime on calibration data and write activation-aware sensitivities"
                + " (safetensors, F32, named and shaped like each covered initializer) for palettize --sensitivities.",
        exitCodeOnInvalidInput = 2, exitCodeOnExecutionException = 1)
public final class CalibrateMain implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "The ONNX model (external data beside it).")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The sensitivities file to write (safetensors).")
    Path out;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--inputs", paramLabel = "FILE", description = "safetensors file with one tensor per model input,"
                + " named as the input and shaped [samples, input shape...]; run i feeds slice i.")
        Path inputs;

        @Option(names = "--texts", paramLabel = "FILE", description = "Text file, one text per line, for text encoders"
                + " (inputs input_ids, attention_mask, token_type_ids).")
        Path texts;

        @Option(names = "--builtin-texts", description = "The built-in calibration texts (" + CalibrationTexts.NAME
                + ", disjoint from the quality harness's sentences).")
        boolean builtin;
    }

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "Hugging Face tokenizer.json for --texts and"
            + " --builtin-texts (default: tokenizer.json, then MODEL-tokenizer.json, beside the model).")
    Path tokenizer;

    @Option(names = "--max-samples", paramLabel = "N", description = "Use at most the first N samples (default: all).")
    Integer maxSamples;

    @Option(names = "--importance", description = "Also measure each weight's importance for palettize --budget-error"
            + " measured: replace the weight alone by a 4-bit per-tensor probe, run the first samples and divide the"
            + " outputs' relative squared error by the probe's weighted error (stored in the file's metadata).")
    boolean importance;

    @Option(names = "--importance-samples", paramLabel = "N", description = "With --importance: probe on the first N"
            + " samples (default: " + Importance.DEFAULT_SAMPLES + ", or all when fewer).")
    Integer importanceSamples;

    /** This command as picocli runs it: usage errors go to its error stream (the caller's). */
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final PrintStream err;

    CalibrateMain(PrintStream err) {
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(execute(System.err, args));
    }

    /** Runs the command; returns the exit code (0 done, 1 bad input or failed run, 2 usage). */
    public static int execute(PrintStream err, String... args) {
        CommandLine cli = new CommandLine(new CalibrateMain(err));
        cli.setErr(new java.io.PrintWriter(err, true));
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof CalibrationException || e instanceof ModelFormatException || e instanceof IOException
                    || e instanceof IllegalArgumentException) {
                err.println("palettizer: error: " + message(e));
                return 1;
            }
            throw e;
        });
        return cli.execute(args);
    }

    private static String message(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return e.getMessage() + ": no such file";
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    @Override
    public Integer call() throws IOException {
        if (maxSamples != null && maxSamples < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--max-samples must be at least 1, not "
                    + maxSamples);
        }
        if (importanceSamples != null && (!importance || importanceSamples < 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), importance
                    ? "--importance-samples must be at least 1, not " + importanceSamples
                    : "--importance-samples goes with --importance");
        }
        if (tokenizer != null && source.inputs != null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--tokenizer goes with --texts or --builtin-texts, not with --inputs");
        }
        if (!Files.isRegularFile(model)) {
            throw new CalibrationException(model + ": no such model file");
        }
        long started = System.nanoTime();
        Calibrator.Result result;
        Importance.Result measured = null;
        double importanceSeconds = 0;
        try (CalibrationData data = open()) {
            result = Calibrator.run(model, data, maxSamples, done -> {
                if (done % 50 == 0) {
                    err.println("calibrate: " + done + " samples");
                }
            });
            if (data instanceof TokenizedTexts t && t.truncated() > 0) {
                err.println("calibrate: " + t.truncated() + " texts were longer than the tokenizer's maximum length"
                        + " and were truncated, as the model would see them");
            }
            if (importance) {
                long probing = System.nanoTime();
                int total = result.sensitivities().size();
                int[] done = {0};
                measured = Importance.measure(model, data, importanceSamples == null ? Importance.DEFAULT_SAMPLES
                        : importanceSamples, result.sensitivities(), name -> err.println("calibrate: importance "
                        + ++done[0] + "/" + total + " " + name));
                importanceSeconds = (System.nanoTime() - probing) / 1e9;
            }
        }
        Path[] inputs = source.inputs == null ? new Path[] {model} : new Path[] {model, source.inputs};
        Calibrator.write(result, measured, out, inputs);
        if (measured != null) {
            for (String u : measured.unmeasured()) {
                err.println("calibrate: importance not measured: " + u);
            }
            err.printf(Locale.ROOT, "calibrate: importances of %d weights, each probed on %d samples, in %.1f s%n",
                    measured.probes().size(), measured.samples(), importanceSeconds);
        }
        report(result, (System.nanoTime() - started) / 1e9);
        return 0;
    }

    private CalibrationData open() throws IOException {
        if (source.inputs != null) {
            return TensorFile.open(source.inputs);
        }
        Path tok = tokenizer != null ? tokenizer : defaultTokenizer();
        return source.builtin ? TokenizedTexts.of(CalibrationTexts.NAME, CalibrationTexts.all(), tok)
                : TokenizedTexts.read(source.texts, tok);
    }

    private Path defaultTokenizer() {
        Path folder = model.toAbsolutePath().getParent();
        String stem = model.getFileName().toString().replaceFirst("\\.onnx$", "");
        for (Path candidate : List.of(folder.resolve("tokenizer.json"), folder.resolve(stem + "-tokenizer.json"))) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new CalibrationException(model + ": no tokenizer.json or " + stem + "-tokenizer.json beside the model;"
                + " pass the model's tokenizer with --tokenizer");
    }

    private void report(Calibrator.Result result, double seconds) {
        List<Calibrator.Uncovered> vectors = result.uncovered().stream().filter(u -> u.shape().length < 2).toList();
        for (Calibrator.Uncovered u : result.uncovered()) {
            if (u.shape().length >= 2) {
                err.println("calibrate: not covered: " + u.name() + " " + TensorFile.shape(u.shape()) + ": " + u.reason());
            }
        }
        if (!vectors.isEmpty()) {
            err.println("calibrate: not covered: " + vectors.size() + " initializers of fewer than 2 dimensions (biases,"
                    + " norm scales; palettize leaves them alone unless --include-1d): "
                    + String.join(", ", vectors.stream().map(Calibrator.Uncovered::name).toList()));
        }
        err.printf(Locale.ROOT, "calibrate: wrote %s: sensitivities of %d weights from %d samples (%s) in %.1f s%n",
                out, result.sensitivities().size(), result.samples(), result.data(), seconds);
    }
}
