package dev.palettizer.budget;

import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.ModelPalettizer;
import dev.palettizer.engine.OnnxOutput;
import dev.palettizer.engine.OnnxPalettizer;
import dev.palettizer.engine.Progress;
import dev.palettizer.engine.TensorReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Palettizes a model file within an average bit budget: the rules choose the tensors (and their mode,
 * LUT quantization, cluster_dim, per-channel scale), the budget their bits and granularity; then one
 * ordinary run writes the file (atomically, as always).
 */
public final class MixedBitsPalettizer {
    private final ModelPalettizer models;
    private final OnnxPalettizer onnx;
    private final BudgetPlanner planner;

    public MixedBitsPalettizer(ModelPalettizer models, OnnxPalettizer onnx) {
        this.models = models;
        this.onnx = onnx;
        this.planner = new BudgetPlanner(models);
    }

    /** The per-tensor reports of the run and what the budget chose and achieved. */
    public record Result(List<TensorReport> tensors, BudgetReport budget) {
        public Result {
            tensors = List.copyOf(tensors);
        }
    }

    /**
     * @param curves told about the candidates' clustering; {@code progress}, about the run
     */
    public Result palettizeFile(Path in, Path out, FileJobOptions job, BitBudget budget, Progress curves,
                                Progress progress) throws IOException {
        BudgetPlan plan = models.withPlannedJobs(in, job,
                planned -> planner.plan(planned, budget, job.sensitivities(), curves));
        List<TensorReport> reports = models.palettize(in, out, plan.apply(job), progress);
        return new Result(reports, BudgetReport.of(plan, reports, Files.size(out)));
    }

    public Result palettizeOnnx(Path in, Path out, FileJobOptions job, BitBudget budget, OnnxOutput output,
                                Progress curves, Progress progress) throws IOException {
        BudgetPlan plan = onnx.withPlannedJobs(in, job, output,
                planned -> planner.plan(planned, budget, job.sensitivities(), curves));
        List<TensorReport> reports = onnx.palettize(in, out, plan.apply(job), output, progress);
        return new Result(reports, BudgetReport.of(plan, reports,
                output == OnnxOutput.COMPRESSED ? Files.size(out) : -1));
    }
}
