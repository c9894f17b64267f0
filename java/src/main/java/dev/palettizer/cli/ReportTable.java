package dev.palettizer.cli;

import dev.palettizer.budget.Allocator;
import dev.palettizer.budget.BudgetPlan;
import dev.palettizer.budget.BudgetReport;
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

    /**
     * A budgeted run's choices: per tensor the chosen bits and granularity, what they store, the predicted
     * and the achieved error; then the budget, the bits per weight planned and in the file, the errors in all
     * and how close the allocation is to the optimum.
     */
    static void printBudget(BudgetReport b, PrintStream out) {
        BudgetPlan plan = b.plan();
        int nameWidth = Math.max(6, b.rows().stream().mapToInt(r -> r.name().length()).max().orElse(6));
        String row = "%-" + nameWidth + "s  %4s  %-24s %11s %15s %15s%n";
        out.printf(Locale.ROOT, row, "tensor", "bits", "granularity", "bits/weight", "predicted error", "achieved error");
        for (BudgetReport.Row r : b.rows()) {
            out.printf(Locale.ROOT, row, r.name(), r.bits(), r.granularity(),
                    String.format(Locale.ROOT, "%.3f", r.bitsPerWeight()), error(r.predictedError()),
                    error(r.achievedError()));
        }
        Allocator.Allocation a = plan.allocation();
        out.printf(Locale.ROOT, "budget: %s bits per weight, everything stored, %s error; planned %.3f (%d bytes of structure and"
                        + " metadata included), file %s; errors predicted %s, achieved %s; within %s of the optimum"
                        + " (lower bound %s); candidates priced in %.2f s%n",
                plan.budget().targetBits(), plan.budget().measure().label(), plan.plannedBits(), plan.overheadBytes(),
                Double.isNaN(b.fileBits()) ? "- (dense output)" : String.format(Locale.ROOT, "%.3f", b.fileBits()),
                error(a.error()), error(b.achievedError()), error(a.gap()), error(a.lowerBound()), plan.curveSeconds());
    }

    private static String error(double e) {
        return Double.isNaN(e) ? "-" : String.format(Locale.ROOT, "%.4g", e);
    }

    static String snr(double db) {
        return Double.isInfinite(db) ? "exact" : String.format(Locale.ROOT, "%.2f", db);
    }
}
