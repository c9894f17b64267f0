package dev.palettizer.budget;

import dev.palettizer.engine.ClusterMode;
import dev.palettizer.engine.ModelPalettizer;
import dev.palettizer.engine.Outcome;
import dev.palettizer.engine.Progress;
import dev.palettizer.engine.Sensitivities;
import dev.palettizer.engine.TensorInput;
import dev.palettizer.engine.TensorJob;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prices every candidate of every tensor a job palettizes (each clustered through the engine, in fast
 * mode for scalar specs, so the curves cost little), then allocates a budget on them ({@link Allocator}).
 *
 * <p>A tensor's predicted error is its weighted SSE in the raw sensitivities' units when sensitivities are
 * given (with calibration's E[x_j^2] that is the expected output-error contribution of the tensor, so
 * tensors compare), else its plain SSE. A job with sensitivities for some tensors only is refused: weighted
 * and unweighted errors do not compare.
 */
public final class BudgetPlanner {
    /**
     * Bytes per palettized tensor set aside for what the format adds besides LUTs, indices and scales
     * (safetensors header entries and metadata JSON; ONNX initializer records and expansion nodes), in the
     * first allocation; {@link MixedBitsPalettizer} then measures what a written file really adds.
     */
    public static final long METADATA_BYTES_PER_TENSOR = 1024;

    private final ModelPalettizer models;

    public BudgetPlanner(ModelPalettizer models) {
        this.models = models;
    }

    /**
     * The tensors' curves, each candidate clustered: the slow part, done once however often the budget is
     * allocated.
     *
     * @param planned the tensors the rules palettize ({@code ModelPalettizer.withPlannedJobs})
     * @param importances the measured importances, needed by (only) {@link ErrorMeasure#MEASURED}
     * @param sensitivities the job's sensitivity file (for messages), or null
     * @param progress told about each tensor's candidates as they are clustered
     */
    public Curves curves(ModelPalettizer.PlannedJobs planned, ErrorMeasure measure, Importances importances,
                         Path sensitivities, Progress progress) {
        List<TensorJob> jobs = planned.jobs();
        checkCoverage(jobs, sensitivities);
        if (measure == ErrorMeasure.MEASURED) {
            checkImportances(jobs, importances, sensitivities);
        }
        long started = System.nanoTime();
        List<List<PalettizationSpec>> specs = jobs.stream()
                .map(j -> Candidates.of(j.spec(), j.input().shape())).toList();
        long total = 0;
        for (int i = 0; i < jobs.size(); i++) {
            total += jobs.get(i).input().values().size() * specs.get(i).size();
        }
        progress.start(total);
        List<Curve> curves = new ArrayList<>();
        List<TensorChoice> tensors = new ArrayList<>();
        for (int i = 0; i < jobs.size(); i++) {
            TensorJob job = jobs.get(i);
            if (specs.get(i).isEmpty()) {
                continue; // no candidate fits: the rules' own spec decides in the run (and its report says why)
            }
            boolean weighted = job.input().sensitivities() != null;
            double scale = errorScale(job.input(), measure)
                    * (measure == ErrorMeasure.MEASURED ? importances.of(job.input().name()) : 1);
            Curve curve = curve(job, specs.get(i), weighted, scale);
            progress.done(job.input().name(), job.input().values().size() * specs.get(i).size());
            if (curve != null) {
                curves.add(curve);
                tensors.add(new TensorChoice(curve.name(), curve.elements(), null, curve.points().size(),
                        curve.hull().size(), weighted, scale));
            }
        }
        return new Curves(curves, tensors, Math.max(0, planned.fileBytes() - planned.payloadBytes()),
                (System.nanoTime() - started) / 1e9);
    }

    /**
     * The curves of the tensors a budget covers.
     *
     * @param tensors per curve, the tensor (its {@code chosen} not yet set)
     * @param structureBytes the input file's size less its tensors' data: its own structure, which the output
     *     keeps too
     * @param seconds wall time spent clustering the candidates
     */
    public record Curves(List<Curve> curves, List<TensorChoice> tensors, long structureBytes, double seconds) {
        public Curves {
            curves = List.copyOf(curves);
            tensors = List.copyOf(tensors);
        }

        public long weights() {
            return curves.stream().mapToLong(Curve::elements).sum();
        }

        /** A first estimate of everything stored besides the candidates' bytes. */
        public long estimatedOverheadBytes() {
            return structureBytes + METADATA_BYTES_PER_TENSOR * curves.size();
        }
    }

    /**
     * The budget's choice on {@code curves}, setting {@code overheadBytes} aside for everything stored besides
     * the candidates' indices, LUTs and scales.
     *
     * @throws SpecException when even the cheapest choice does not fit, saying what budget would
     */
    public static BudgetPlan allocate(Curves curves, BitBudget budget, long overheadBytes) {
        long weights = curves.weights();
        if (weights == 0) {
            return new BudgetPlan(budget, 0, 0, 0, List.of(), Allocator.allocate(List.of(), 0), curves.seconds());
        }
        long available = budget.bytesFor(weights) - overheadBytes;
        long cheapest = Allocator.cheapestBytes(curves.curves());
        if (cheapest > available) {
            double least = 8.0 * (cheapest + overheadBytes) / weights;
            throw new SpecException(String.format(Locale.ROOT, "target_bits %s cannot be met: the fewest bits for each"
                    + " of the %d tensors to palettize store %.3f bits per weight with everything counted (%d bytes of"
                    + " file structure and metadata included); give at least %.3f", budget.targetBits(),
                    curves.curves().size(), least, overheadBytes, Math.ceil(least * 1000) / 1000));
        }
        Allocator.Allocation allocation = Allocator.allocate(curves.curves(), available);
        List<TensorChoice> choices = new ArrayList<>();
        for (int i = 0; i < curves.tensors().size(); i++) {
            TensorChoice c = curves.tensors().get(i);
            choices.add(new TensorChoice(c.name(), c.elements(), allocation.chosen().get(i), c.candidates(),
                    c.hullPoints(), c.weighted(), c.errorScale()));
        }
        return new BudgetPlan(budget, weights, overheadBytes, available, choices, allocation, curves.seconds());
    }

    /** One tensor's curve; null when none of its candidates could be palettized. */
    private Curve curve(TensorJob job, List<PalettizationSpec> specs, boolean weighted, double scale) {
        TensorInput raw = job.input();
        FloatSource weights = raw.sensitivities() == null ? null : Sensitivities.normalized(raw.sensitivities());
        TensorInput input = raw.withSensitivities(weights);
        // Vector specs refuse fast mode; scalar ones are priced on the fast path whatever the rule's mode.
        ClusterMode mode = job.spec().clusterDim() == 1 ? new ClusterMode(true, job.mode().roundingPrecision()) : job.mode();
        List<TensorJob> candidates = specs.stream().map(s -> new TensorJob(input, s, mode)).toList();
        List<Point> points = new ArrayList<>();
        for (Outcome o : models.palettizeAll(candidates, Progress.NONE)) {
            if (o instanceof Outcome.Palettized p) {
                PalettizedTensor t = p.tensor();
                double error = (weighted ? t.error().weightedSse() : t.error().sse()) * scale;
                points.add(new Point(t.spec(), t.compressedBytes(), error));
            }
        }
        return points.isEmpty() ? null : new Curve(raw.name(), raw.values().size(), points);
    }

    /**
     * What the engine's SSE of this tensor (weighted on sensitivities normalised to a largest value of 1, or
     * plain) is multiplied by to give {@code measure}'s error: the largest raw sensitivity, which undoes the
     * normalisation ({@link Sensitivities#normalized}), or 1; for {@link ErrorMeasure#RELATIVE} divided by the
     * tensor's own energy under the same weighting (sum s w^2, or sum w^2); {@link ErrorMeasure#MEASURED}
     * multiplies the raw-units scale by the tensor's importance (in {@link #curves}).
     */
    private static double errorScale(TensorInput t, ErrorMeasure measure) {
        FloatSource raw = t.sensitivities();
        float[] w = new float[8192];
        float[] s = raw == null ? null : new float[w.length];
        double max = 0;
        double energy = 0;
        for (long off = 0; off < t.values().size(); off += w.length) {
            int len = (int) Math.min(w.length, t.values().size() - off);
            t.values().read(off, w, 0, len);
            if (raw != null) {
                raw.read(off, s, 0, len);
            }
            for (int i = 0; i < len; i++) {
                double weight = raw == null ? 1 : s[i];
                max = Math.max(max, weight);
                energy += weight * w[i] * w[i];
            }
        }
        double scale = raw == null ? 1 : max;
        return measure == ErrorMeasure.RELATIVE ? (energy > 0 ? scale / energy : 0) : scale;
    }

    /** Every tensor needs sensitivities and an importance: the importance multiplies the weighted SSE. */
    private static void checkImportances(List<TensorJob> jobs, Importances importances, Path sensitivities) {
        if (importances == null) {
            throw new IllegalArgumentException("the measured error needs importances");
        }
        for (TensorJob j : jobs) {
            if (j.input().sensitivities() == null) {
                throw new ModelFormatException(sensitivities, j.input().name(), "no sensitivities; the measured budget"
                        + " error weighs each tensor's weighted SSE by its importance, so run palettizer calibrate"
                        + " --importance on this model and pass its output with --sensitivities");
            }
            importances.of(j.input().name());
        }
    }

    private static void checkCoverage(List<TensorJob> jobs, Path sensitivities) {
        List<String> missing = jobs.stream().filter(j -> j.input().sensitivities() == null)
                .map(j -> j.input().name()).toList();
        if (!missing.isEmpty() && missing.size() < jobs.size()) {
            throw new ModelFormatException(sensitivities, "a budget compares errors across tensors, so every tensor"
                    + " to palettize needs sensitivities, but " + missing.size() + " of " + jobs.size() + " have none: "
                    + Sensitivities.examples(missing) + "; add them to the file, or leave those tensors out in a config");
        }
    }
}
