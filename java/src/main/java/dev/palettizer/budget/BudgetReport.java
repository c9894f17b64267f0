package dev.palettizer.budget;

import dev.palettizer.engine.TensorReport;
import dev.palettizer.spec.Granularity;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a budgeted run chose and got: per tensor the chosen bits and granularity, the predicted error
 * (from its curve) and the achieved one (measured on the palettized tensor the run wrote), and the totals.
 *
 * <p>The curves are clustered in fast mode; a run in the rules' fast mode rebuilds the same tensors, so
 * achieved equals predicted there (a check that the run used the priced specs), and a run in exact mode
 * shows how well the fast curves predicted it.
 *
 * @param plan the plan the run followed
 * @param rows per planned tensor, in model order
 * @param achievedError the achieved errors in all
 * @param fileBits average bits per palettized weight of the written file, everything stored: its size less
 *     the tensors kept as they were, per palettized weight (the README's bits/weight); NaN when the output is
 *     dense
 */
public record BudgetReport(BudgetPlan plan, List<Row> rows, double achievedError, double fileBits) {
    public BudgetReport {
        rows = List.copyOf(rows);
    }

    /**
     * One tensor.
     *
     * @param granularity per_tensor, per_channel or per_grouped_channel:N (axis 0)
     * @param achievedError NaN when the run did not palettize the tensor
     */
    public record Row(String name, int bits, String granularity, long bytes, double bitsPerWeight,
                      double predictedError, double achievedError) {}

    /**
     * @param outputBytes the written file's size, or a negative number when the output is dense
     */
    public static BudgetReport of(BudgetPlan plan, List<TensorReport> reports, long outputBytes) {
        Map<String, TensorChoice> chosen = plan.byName();
        List<Row> rows = new ArrayList<>();
        double achieved = 0;
        for (TensorReport r : reports) {
            TensorChoice c = chosen.get(r.name());
            if (c == null) {
                continue;
            }
            double a = r.palettized() ? c.error(r.sse(), r.weightedSse()) : Double.NaN;
            achieved += a;
            Point p = c.chosen();
            rows.add(new Row(r.name(), p.spec().nBits(), granularity(p), p.bytes(), 8.0 * p.bytes() / c.elements(),
                    p.error(), a));
        }
        long kept = reports.stream().filter(r -> !r.palettized()).mapToLong(TensorReport::bytesAfter).sum();
        long palettized = reports.stream().filter(TensorReport::palettized).mapToLong(TensorReport::elements).sum();
        double fileBits = outputBytes < 0 || palettized == 0 ? Double.NaN : 8.0 * (outputBytes - kept) / palettized;
        return new BudgetReport(plan, rows, achieved, fileBits);
    }

    public double predictedError() {
        return plan.allocation().error();
    }

    static String granularity(Point p) {
        return switch (p.spec().granularity()) {
            case Granularity.PerTensor t -> "per_tensor";
            case Granularity.PerGroupedChannel g ->
                    g.groupSize() == 1 ? "per_channel"
                            : "per_grouped_channel:" + g.groupSize() + (g.raggedLast() ? " ragged" : "");
        };
    }
}
