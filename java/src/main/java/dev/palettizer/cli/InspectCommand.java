package dev.palettizer.cli;

import static dev.palettizer.cli.CliSpecs.positional;

import dev.palettizer.api.Palettizer;
import dev.palettizer.io.CompressedFormat;
import dev.palettizer.io.CompressedModel;
import dev.palettizer.io.OnnxCompressedModel;
import dev.palettizer.io.OnnxInitializer;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;

final class InspectCommand implements Callable<Integer> {
    Path file;

    /** The command line of inspect, bound to this object's fields. */
    CommandSpec spec() {
        CommandSpec command = CliSpecs.command(this, "inspect",
                "List a safetensors file's tensors or an ONNX model's initializers (.onnx): shape, spec, bits per"
                + " weight, bytes, and error when known.");
        command.addPositional(positional(Path.class, v -> file = v, "0").paramLabel("<file>")
                .description("Compressed or plain safetensors file, ONNX model, or checkpoint folder (one"
                + " table per shard).").build());
        return command;
    }

    @Override
    public Integer call() throws Exception {
        InspectTable table = new InspectTable();
        if (ModelFiles.isOnnx(file)) {
            inspectOnnx(table);
        } else if (ModelFiles.isFolder(file)) {
            // Each shard is a compressed file of its own: one table per shard, under a heading line.
            for (Path shard : Palettizer.inspectFolder(file).keySet()) {
                System.out.println("# " + shard.getFileName());
                InspectTable shardTable = new InspectTable();
                inspectSafetensors(shardTable, shard);
                shardTable.print(System.out);
            }
            return 0;
        } else {
            inspectSafetensors(table, file);
        }
        table.print(System.out);
        return 0;
    }

    /** A compressed file's tensors, or every tensor of a plain one, in header order. */
    private static void inspectSafetensors(InspectTable table, Path file) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            List<String> header = f.tensors().stream().map(SafetensorsFile.Entry::name).toList();
            CompressedModel model = f.metadata().containsKey(CompressedFormat.FORMAT_KEY)
                    ? Palettizer.inspect(file) : new CompressedModel(List.of(), header);
            for (PalettizedTensor t : model.palettized()) {
                // A palettized tensor is stored as its name plus a suffix per part (LUT, indices...).
                long position = header.stream().filter(n -> n.startsWith(t.name() + ".")).mapToLong(header::indexOf)
                        .min().orElse(header.size());
                addPalettized(table, position, t, t.shape(), "");
            }
            for (String name : model.plainTensors()) {
                SafetensorsFile.Entry e = f.tensor(name).orElseThrow();
                table.add(header.indexOf(name), name, shape(e.shape()), "plain " + e.dtype(),
                        bits(e.data().byteSize(), e.elementCount()), e.data().byteSize(), "-");
            }
        }
    }

    /** Palettized weights with their shape in the graph, then the plain initializers, in initializer order. */
    private void inspectOnnx(InspectTable table) throws Exception {
        OnnxCompressedModel model = Palettizer.inspectOnnx(file);
        try (OnnxModel m = OnnxModel.open(file)) {
            List<String> order = m.initializers().stream().map(OnnxInitializer::name).toList();
            for (OnnxCompressedModel.Weight w : model.palettized()) {
                long position = w.initializers().stream().mapToLong(order::indexOf).filter(i -> i >= 0).min()
                        .orElse(order.size());
                // The engine's axis 0 is the output channels; a MatMul weight stores them as its axis 1.
                addPalettized(table, position, w.tensor(), w.storedShape(),
                        w.transposed() ? " (engine [out,in]; stored transposed)" : "");
            }
            for (String name : model.plainTensors()) {
                OnnxInitializer t = m.initializer(name).orElseThrow();
                table.add(order.indexOf(name), name, shape(t.shape()), "plain " + t.type(),
                        bits(t.byteSize(), t.elementCount()), t.byteSize(), "-");
            }
        }
    }

    private static void addPalettized(InspectTable table, long position, PalettizedTensor t, long[] shape, String note) {
        table.add(position, t.name(), shape(shape), describe(t) + note, bits(t.compressedBytes(), t.elementCount()),
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
            case Granularity.PerGroupedChannel(int axis, int gs, boolean ragged) -> "group " + gs + " axis " + axis
                    + (ragged ? " ragged" : "");
        };
        return s.nBits() + "-bit " + g + (s.clusterDim() > 1 ? " cd" + s.clusterDim() : "")
                + (s.perChannelScale() ? " scaled" : "")
                + (s.lutQuant() != null ? " lut " + s.lutQuant().dtype().cliName() : "")
                + (t.outliers() != null ? " +" + t.outliers().count() + " outliers" : "");
    }
}
