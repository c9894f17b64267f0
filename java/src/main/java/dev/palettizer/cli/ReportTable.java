package dev.palettizer.cli;

import dev.palettizer.engine.TensorReport;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The per-tensor table printed after a job, with totals. */
final class ReportTable {
    private ReportTable() {}

    static void print(List<TensorReport> reports, double wallSeconds, PrintStream out) {
        int nameWidth = Math.max(6, reports.stream().mapToInt(r -> r.name().length()).max().orElse(6));
        String row = "%-" + nameWidth + "s  %-14s %5s %12s %12s %9s %8s  %s%n";
        out.printf(Locale.ROOT, row, "tensor", "shape", "bits", "bytes", "compressed", "SNR dB", "time s", "note");
        long before = 0;
        long after = 0;
        long weights = 0;
        long palettized = 0;
        for (TensorReport r : reports) {
            before += r.bytesBefore();
            after += r.bytesAfter();
            if (r.palettized()) {
                weights += r.elements();
                palettized++;
            }
            out.printf(Locale.ROOT, row, r.name(), Arrays.toString(r.shape()).replace(" ", ""),
                    r.palettized() ? String.format(Locale.ROOT, "%.2f", r.bitsPerWeight()) : r.dtype(),
                    r.bytesBefore(), r.bytesAfter(),
                    r.palettized() ? snr(r.snrDb()) : "-",
                    r.palettized() ? String.format(Locale.ROOT, "%.3f", r.seconds()) : "-",
                    r.reason() == null ? "" : r.reason());
        }
        out.printf(Locale.ROOT, "total: %d tensors, %d palettized (%d weights); %d -> %d bytes (%.2fx smaller) in %.2f s%n",
                reports.size(), palettized, weights, before, after, after == 0 ? 0 : (double) before / after, wallSeconds);
    }

    static String snr(double db) {
        return Double.isInfinite(db) ? "exact" : String.format(Locale.ROOT, "%.2f", db);
    }
}
