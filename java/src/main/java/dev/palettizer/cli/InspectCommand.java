package dev.palettizer.cli;

import dev.palettizer.api.Palettizer;
import dev.palettizer.io.CompressedModel;
import dev.palettizer.io.OnnxCompressedModel;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.io.OnnxInitializer;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "List a safetensors file's tensors or an ONNX model's initializers (.onnx): shape, spec, bits per"
                + " weight, bytes, and error when known.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Compressed or plain safetensors file, ONNX model, or checkpoint folder"
            + " (one table per shard).")
    Path file;

    private static final String ROW = "%-40s %-14s %-34s %6s %12s %8s%n";

    @Override
    public Integer call() throws Exception {
        System.out.printf(Locale.ROOT, ROW, "tensor", "shape", "spec", "bits", "bytes", "SNR dB");
        if (ModelFiles.isOnnx(file)) {
            return inspectOnnx();
        }
        if (ModelFiles.isFolder(file)) {
            // Each shard is a compressed file of its own; a heading line names it.
            for (Map.Entry<Path, CompressedModel> shard : Palettizer.inspectFolder(file).entrySet()) {
                System.out.println("# " + shard.getKey().getFileName());
                printSafetensors(shard.getKey(), shard.getValue());
            }
            return 0;
        }
        printSafetensors(file, Palettizer.inspect(file));
        return 0;
    }

    private static void printSafetensors(Path file, CompressedModel model) throws Exception {
        for (PalettizedTensor t : model.palettized()) {
            printPalettized(t, t.shape());
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : model.plainTensors()) {
                SafetensorsFile.Entry e = f.tensor(name).orElseThrow();
                System.out.printf(Locale.ROOT, ROW, name, shape(e.shape()), "plain " + e.dtype(), 8 * e.dtype().byteSize(),
                        e.data().byteSize(), "-");
            }
        }
    }

    /** Palettized weights with their shape in the graph, then the plain initializers. */
    private int inspectOnnx() throws Exception {
        OnnxCompressedModel model = Palettizer.inspectOnnx(file);
        for (OnnxCompressedModel.Weight w : model.palettized()) {
            printPalettized(w.tensor(), w.storedShape());
        }
        try (OnnxModel m = OnnxModel.open(file)) {
            for (String name : model.plainTensors()) {
                OnnxInitializer t = m.initializer(name).orElseThrow();
                System.out.printf(Locale.ROOT, ROW, name, shape(t.shape()), "plain " + t.type(),
                        bits(t.byteSize(), t.elementCount()), t.byteSize(), "-");
            }
        }
        return 0;
    }

    private static void printPalettized(PalettizedTensor t, long[] shape) {
        System.out.printf(Locale.ROOT, ROW, t.name(), shape(shape), describe(t), bits(t.compressedBytes(), t.elementCount()),
                t.compressedBytes(), ReportTable.snr(t.error().snrDb()));
    }

    private static String bits(long bytes, long elements) {
        return String.format(Locale.ROOT, "%.3f", elements == 0 ? 0 : 8.0 * bytes / elements);
    }

    private static String shape(long[] shape) {
        return Arrays.toString(shape).replace(" ", "");
    }

    private static String describe(PalettizedTensor t) {
        PalettizationSpec s = t.spec();
        String g = switch (s.granularity()) {
            case Granularity.PerTensor p -> "per-tensor";
            case Granularity.PerGroupedChannel(int axis, int gs) -> "group " + gs + " axis " + axis;
        };
        return s.nBits() + "-bit " + g + (s.clusterDim() > 1 ? " cd" + s.clusterDim() : "")
                + (s.perChannelScale() ? " scaled" : "")
                + (s.lutQuant() != null ? " lut " + s.lutQuant().dtype().cliName() : "");
    }
}
