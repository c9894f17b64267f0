package dev.palettizer.budget;

import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.ModelPalettizer;
import dev.palettizer.engine.OnnxOutput;
import dev.palettizer.engine.OnnxPalettizer;
import dev.palettizer.engine.Progress;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.spec.SpecException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Palettizes a model file within an average bit budget: the rules choose the tensors (and their mode,
 * LUT quantization, cluster_dim, per-channel scale), the budget their bits and granularity.
 *
 * <p>What the format adds per tensor (header entries and metadata; for ONNX, initializers and expansion
 * nodes that depend on the bit width) is known exactly only once written. So the chosen specs are written
 * to a scratch folder beside the output (compressed, whatever the output), the file's bits per weight are
 * measured with everything counted, and while they exceed the budget the allocation is redone on the same
 * curves with the measured overhead set aside (at most {@link #ROUNDS} writes; one is the rule). The fitting
 * file is then moved into place atomically (a dense ONNX output is written from the same choices first), so
 * a failed run leaves no output.
 */
public final class MixedBitsPalettizer {
    static final int ROUNDS = 4;

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

    private interface Writer {
        List<TensorReport> write(Path out, FileJobOptions job, boolean compressed, Progress progress) throws IOException;
    }

    /**
     * @param curves told about the candidates' clustering; {@code progress}, about the first write
     */
    public Result palettizeFile(Path in, Path out, FileJobOptions job, BitBudget budget, Progress curves,
                                Progress progress) throws IOException {
        refuseOverwrite(in, out, job);
        Importances importances = importances(budget, job);
        BudgetPlanner.Curves c = models.withPlannedJobs(in, job,
                planned -> planner.curves(planned, budget.measure(), importances, job.sensitivities(), curves));
        return fit(c, out, job, budget, true, (o, j, compressed, p) -> models.palettize(in, o, j, p), progress);
    }

    public Result palettizeOnnx(Path in, Path out, FileJobOptions job, BitBudget budget, OnnxOutput output,
                                Progress curves, Progress progress) throws IOException {
        refuseOverwrite(in, out, job);
        Importances importances = importances(budget, job);
        BudgetPlanner.Curves c = onnx.withPlannedJobs(in, job, OnnxOutput.COMPRESSED,
                planned -> planner.curves(planned, budget.measure(), importances, job.sensitivities(), curves));
        return fit(c, out, job, budget, output == OnnxOutput.COMPRESSED, (o, j, compressed, p) ->
                onnx.palettize(in, o, j, compressed ? OnnxOutput.COMPRESSED : OnnxOutput.DENSE, p), progress);
    }

    private Result fit(BudgetPlanner.Curves curves, Path out, FileJobOptions job, BitBudget budget,
                       boolean compressedOutput, Writer writer, Progress progress) throws IOException {
        long overhead = curves.estimatedOverheadBytes();
        Path folder = out.toAbsolutePath().getParent();
        for (int round = 0; round < ROUNDS; round++) {
            BudgetPlan plan = BudgetPlanner.allocate(curves, budget, overhead);
            Path scratch = Files.createTempDirectory(folder, "." + out.getFileName() + ".budget");
            try {
                Path attempt = scratch.resolve(out.getFileName());
                List<TensorReport> reports = writer.write(attempt, plan.apply(job), true,
                        round == 0 ? progress : Progress.NONE);
                BudgetReport report = BudgetReport.of(plan, reports, Files.size(attempt));
                if (plan.weights() == 0 || report.fileBits() <= budget.targetBits()) {
                    if (!compressedOutput) {
                        Files.delete(attempt);
                        reports = writer.write(attempt, plan.apply(job), false, Progress.NONE);
                        report = BudgetReport.of(plan, reports, -1);
                    }
                    moveIntoPlace(scratch, attempt, out);
                    return new Result(reports, report);
                }
                long kept = reports.stream().filter(r -> !r.palettized()).mapToLong(TensorReport::bytesAfter).sum();
                overhead = Files.size(attempt) - kept - plan.allocation().bytes();
            } finally {
                deleteAll(scratch);
            }
        }
        throw new SpecException(String.format(Locale.ROOT, "target_bits %s: no allocation met the budget with what the"
                + " format stores after %d tries (the last set aside %d bytes besides LUTs, indices and scales); give a"
                + " slightly larger budget", budget.targetBits(), ROUNDS, overhead));
    }

    /** The other files first (external data), then the model file, atomically: it appears whole or not at all. */
    private static void moveIntoPlace(Path scratch, Path attempt, Path out) throws IOException {
        Path folder = out.toAbsolutePath().getParent();
        try (Stream<Path> files = Files.list(scratch)) {
            for (Path f : files.filter(f -> !f.equals(attempt)).sorted().toList()) {
                Files.move(f, folder.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            }
        }
        Files.move(attempt, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void deleteAll(Path folder) throws IOException {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    /** The importances a {@link ErrorMeasure#MEASURED} budget needs, from the job's sensitivities file; else null. */
    private static Importances importances(BitBudget budget, FileJobOptions job) throws IOException {
        if (budget.measure() != ErrorMeasure.MEASURED) {
            return null;
        }
        if (job.sensitivities() == null) {
            throw new SpecException("the measured budget error needs a sensitivities file with measured importances;"
                    + " run palettizer calibrate --importance and pass its output with --sensitivities");
        }
        return Importances.read(job.sensitivities());
    }

    /** The output is moved into place at the end, so it must not be an input. */
    private static void refuseOverwrite(Path in, Path out, FileJobOptions job) throws IOException {
        for (Path input : job.sensitivities() == null ? List.of(in) : List.of(in, job.sensitivities())) {
            if (Files.exists(out) && Files.isSameFile(input, out)) {
                throw new ModelFormatException(out, "output path equals input path " + input + "; choose another"
                        + " output file");
            }
        }
    }
}
