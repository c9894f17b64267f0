package dev.palettizer.cli;

import dev.palettizer.api.Palettizer;
import dev.palettizer.io.CompressedModel;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "List a safetensors file's tensors: shape, spec, bits per weight, bytes, and error when known.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Compressed or plain safetensors file.")
    Path file;

    @Override
    public Integer call() throws Exception {
        CompressedModel model = Palettizer.inspect(file);
        String row = "%-40s %-14s %-34s %6s %12s %8s%n";
        System.out.printf(Locale.ROOT, row, "tensor", "shape", "spec", "bits", "bytes", "SNR dB");
        for (PalettizedTensor t : model.palettized()) {
            System.out.printf(Locale.ROOT, row, t.name(), Arrays.toString(t.shape()).replace(" ", ""), describe(t),
                    String.format(Locale.ROOT, "%.3f", 8.0 * t.compressedBytes() / t.elementCount()), t.compressedBytes(),
                    ReportTable.snr(t.error().snrDb()));
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            for (String name : model.plainTensors()) {
                SafetensorsFile.Entry e = f.tensor(name).orElseThrow();
                System.out.printf(Locale.ROOT, row, name, Arrays.toString(e.shape()).replace(" ", ""),
                        "plain " + e.dtype(), 8 * e.dtype().byteSize(), e.data().byteSize(), "-");
            }
        }
        return 0;
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
