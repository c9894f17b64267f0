package dev.palettizer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.OnnxOutput;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.spec.SpecResolver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

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

    @Override
    public Integer call() throws Exception {
        SpecResolver resolver = config.resolver(spec);
        long started = System.nanoTime();
        List<TensorReport> reports;
        try (Palettizer p = run.palettizer(spec.engineOptions()); ConsoleProgress progress = new ConsoleProgress()) {
            RunOptions.announce(p);
            boolean folder = ModelFiles.isFolder(in);
            long maxShardBytes = shards.maxShardBytes(in, folder);
            reports = folder
                    ? p.palettizeFolder(in, out, spec.job(resolver, sensitivities), maxShardBytes, progress)
                    : ModelFiles.isOnnx(in)
                    ? p.palettizeOnnx(in, ModelFiles.onnxOutput(in, out), spec.job(resolver, sensitivities),
                            OnnxOutput.parse(onnxOutput), progress)
                    : p.palettizeFile(in, out, spec.job(resolver, sensitivities), progress);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        ReportTable.print(reports, seconds, System.out);
        if (report != null) {
            writeJson(reports, seconds);
        }
        return 0;
    }

    private void writeJson(List<TensorReport> reports, double seconds) throws Exception {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("input", in.toString());
        doc.put("output", out.toString());
        doc.put("spec", config.describe(spec));
        doc.put("seconds", seconds);
        doc.put("tensors", reports.stream().map(PalettizeCommand::row).toList());
        Path tmp = Files.createTempFile(report.toAbsolutePath().getParent(), "." + report.getFileName(), ".tmp");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), doc);
        Files.move(tmp, report, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** JSON has no NaN or Infinity: absent errors are null, an exact reconstruction says so. */
    private static Map<String, Object> row(TensorReport r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        m.put("shape", r.shape());
        m.put("dtype", r.dtype());
        m.put("palettized", r.palettized());
        m.put("reason", r.reason());
        m.put("n_bits", r.palettized() ? r.nBits() : null);
        m.put("bytes_before", r.bytesBefore());
        m.put("bytes_after", r.bytesAfter());
        m.put("bits_per_weight", r.palettized() ? r.bitsPerWeight() : null);
        m.put("snr_db", Double.isFinite(r.snrDb()) ? r.snrDb() : null);
        m.put("exact", r.palettized() ? r.sse() == 0 : null);
        m.put("sse", Double.isFinite(r.sse()) ? r.sse() : null);
        m.put("weighted_sse", Double.isFinite(r.weightedSse()) ? r.weightedSse() : null);
        m.put("seconds", r.seconds());
        return m;
    }
}
