package dev.palettizer.cli;

import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.OnnxOutput;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.model.WeightSite;
import dev.palettizer.spec.SpecResolver;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "palettize", mixinStandardHelpOptions = true,
        description = {"Palettize the float tensors of a safetensors file into a compressed safetensors file, or the"
                + " float initializers of an ONNX model (.onnx) into a compressed or dense ONNX model.",
                "One spec for every tensor from the flags (--bits ...), or per module and op from --config FILE or"
                        + " --preset NAME, which cannot be combined with those flags."})
final class PalettizeCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Input safetensors or ONNX file, or checkpoint folder (shards + index, or"
            + " its *.safetensors.index.json) (never modified).")
    Path in;

    @Parameters(index = "1", description = "Output file, same format as the input, or folder for a folder input"
            + " (written atomically).")
    Path out;

    @Mixin
    SpecOptions spec;

    @Mixin
    ConfigOptions config;

    @Mixin
    RunOptions run;

    @Option(names = "--sensitivities", description = "safetensors file of per-element sensitivities (same names and shapes).")
    Path sensitivities;

    @Option(names = "--report", description = "Write the per-tensor report as JSON to this file.")
    Path report;

    @Mixin
    ShardOptions shards;

    @Option(names = "--onnx-output", description = "ONNX input only: compressed (LUT + indices expanded in the graph)"
            + " or dense (reconstructed weights) (default: ${DEFAULT-VALUE}).", defaultValue = "compressed")
    String onnxOutput;

    @Spec
    CommandSpec command;

    @Override
    public Integer call() throws Exception {
        checkPaths();
        SpecResolver resolver = config.resolver(spec);
        FileJobOptions job = spec.job(resolver, sensitivities);
        Map<String, WeightSite> sites = InputChecks.check(in, job, System.err);
        spec.noteImpliedModes(System.err);
        long started = System.nanoTime();
        List<TensorReport> reports;
        try (Palettizer p = run.palettizer(spec.engineOptions()); ConsoleProgress progress = run.progress()) {
            RunOptions.announce(p);
            boolean folder = ModelFiles.isFolder(in);
            long maxShardBytes = shards.maxShardBytes(in, folder);
            reports = folder
                    ? p.palettizeFolder(in, out, job, maxShardBytes, progress)
                    : ModelFiles.isOnnx(in)
                    ? p.palettizeOnnx(in, ModelFiles.onnxOutput(in, out), job, OnnxOutput.parse(onnxOutput), progress)
                    : p.palettizeFile(in, out, job, progress);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        ReportTable.print(reports, seconds, System.out);
        RunWarnings.print(reports, System.err);
        if (report != null) {
            ReportJson.write(report, new ReportJson.Run(in, out, config.describe(spec), seconds), reports, job, sites);
        }
        return 0;
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
