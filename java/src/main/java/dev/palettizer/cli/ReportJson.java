package dev.palettizer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.palettizer.budget.Allocator;
import dev.palettizer.budget.BudgetPlan;
import dev.palettizer.budget.BudgetReport;
import dev.palettizer.budget.TensorChoice;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.model.WeightSite;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.WeightDecision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code palettize --report FILE.json}: the run, every tensor in file order (spec, granularity, module
 * and the rule that decided, sizes, error, warning) and the totals. JSON has no NaN or Infinity:
 * absent errors are null, and an exact reconstruction says so.
 */
final class ReportJson {
    private ReportJson() {}

    record Run(Path input, Path output, String specSource, double seconds) {}

    /** {@code budget}: a budgeted run's choices and errors (a {@code budget} object), or null. */
    static void write(Path report, Run run, List<TensorReport> reports, FileJobOptions job, Map<String, WeightSite> sites,
                      BudgetReport budget) throws IOException {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("input", run.input().toString());
        doc.put("output", run.output().toString());
        doc.put("spec", run.specSource());
        doc.put("seconds", run.seconds());
        doc.put("tensors", reports.stream().map(r -> row(r, job, sites.get(r.name()))).toList());
        doc.put("totals", totals(reports));
        if (budget != null) {
            doc.put("budget", budget(budget));
        }
        Path tmp = Files.createTempFile(report.toAbsolutePath().getParent(), "." + report.getFileName(), ".tmp");
        try {
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), doc);
            Files.move(tmp, report, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static Map<String, Object> row(TensorReport r, FileJobOptions job, WeightSite site) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        m.put("shape", r.shape());
        m.put("dtype", r.dtype());
        m.put("palettized", r.palettized());
        m.put("reason", r.reason());
        m.put("module_name", site == null ? null : site.moduleName());
        m.put("module_type", site == null ? null : site.moduleType());
        WeightDecision d = site == null ? null : job.resolver().resolve(site);
        m.put("rule", d == null ? null : d.reason());
        PalettizationSpec spec = r.palettized() && d != null && d.palettized() ? d.spec() : null;
        m.put("n_bits", r.palettized() ? r.nBits() : null);
        m.put("granularity", spec == null ? null : switch (spec.granularity()) {
            case Granularity.PerTensor p -> "per_tensor";
            case Granularity.PerGroupedChannel g -> g.groupSize() == 1 ? "per_channel" : "per_grouped_channel";
        });
        m.put("axis", spec != null && spec.granularity() instanceof Granularity.PerGroupedChannel g ? g.axis() : null);
        m.put("group_size", spec != null && spec.granularity() instanceof Granularity.PerGroupedChannel g
                ? g.groupSize() : null);
        m.put("ragged_last_group", spec == null ? null
                : spec.granularity() instanceof Granularity.PerGroupedChannel g && g.raggedLast());
        m.put("cluster_dim", spec == null ? null : spec.clusterDim());
        m.put("outliers", spec == null || spec.outlierFraction() == 0 ? null : spec.outlierCount(r.elements()));
        m.put("bytes_before", r.bytesBefore());
        m.put("bytes_after", r.bytesAfter());
        m.put("bits_per_weight", r.palettized() ? r.bitsPerWeight() : null);
        m.put("snr_db", Double.isFinite(r.snrDb()) ? r.snrDb() : null);
        m.put("exact", r.palettized() ? r.sse() == 0 : null);
        m.put("sse", Double.isFinite(r.sse()) ? r.sse() : null);
        m.put("weighted_sse", Double.isFinite(r.weightedSse()) ? r.weightedSse() : null);
        m.put("seconds", r.seconds());
        m.put("warning", r.warning());
        return m;
    }

    private static Map<String, Object> budget(BudgetReport b) {
        BudgetPlan plan = b.plan();
        Allocator.Allocation a = plan.allocation();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target_bits", plan.budget().targetBits());
        m.put("palettized_weights", plan.weights());
        m.put("planned_bits_per_weight", plan.plannedBits());
        m.put("file_bits_per_weight", orNull(b.fileBits()));
        m.put("overhead_bytes", plan.overheadBytes());
        m.put("candidate_bytes_budget", plan.candidateBytes());
        m.put("candidate_bytes", a.bytes());
        m.put("predicted_error", a.error());
        m.put("achieved_error", orNull(b.achievedError()));
        m.put("lower_bound", a.lowerBound());
        m.put("gap", a.gap());
        boolean weighted = plan.choices().stream().anyMatch(TensorChoice::weighted);
        m.put("error_measure", plan.budget().measure().label());
        m.put("error_units", switch (plan.budget().measure()) {
            case OUTPUT -> weighted ? "weighted SSE, raw sensitivity units" : "SSE";
            case RELATIVE -> weighted ? "weighted SSE / weighted signal energy, per tensor" : "SSE / signal energy, per tensor";
            case MEASURED -> "weighted SSE x measured importance: predicted relative squared error of the model's outputs";
        });
        m.put("curve_seconds", plan.curveSeconds());
        Map<String, TensorChoice> choices = plan.byName();
        m.put("tensors", b.rows().stream().map(r -> {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("name", r.name());
            t.put("candidates", choices.get(r.name()).candidates());
            t.put("hull_points", choices.get(r.name()).hullPoints());
            t.put("n_bits", r.bits());
            t.put("granularity", r.granularity());
            t.put("bytes", r.bytes());
            t.put("bits_per_weight", r.bitsPerWeight());
            t.put("predicted_error", r.predictedError());
            t.put("achieved_error", orNull(r.achievedError()));
            return t;
        }).toList());
        return m;
    }

    private static Object orNull(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private static Map<String, Object> totals(List<TensorReport> reports) {
        long before = reports.stream().mapToLong(TensorReport::bytesBefore).sum();
        long after = reports.stream().mapToLong(TensorReport::bytesAfter).sum();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tensors", reports.size());
        m.put("palettized", reports.stream().filter(TensorReport::palettized).count());
        m.put("palettized_weights", reports.stream().filter(TensorReport::palettized).mapToLong(TensorReport::elements).sum());
        m.put("bytes_before", before);
        m.put("bytes_after", after);
        m.put("ratio", after == 0 ? null : (double) before / after);
        m.put("warnings", reports.stream().filter(r -> r.warning() != null).count());
        return m;
    }
}
