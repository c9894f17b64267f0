package dev.palettizer.engine;

import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.OnnxCompressedFormat;
import dev.palettizer.io.OnnxCompressedModel;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.io.OnnxInitializer;
import dev.palettizer.io.OnnxWriter;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.TransposedSource;
import dev.palettizer.spec.WeightDecision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Function;
import java.util.concurrent.ForkJoinTask;

/**
 * Whole ONNX models: palettize the initializers a {@code SpecResolver} chooses (read mapped,
 * cluster in parallel through {@link TensorPalettizer}, write a compressed or dense ONNX model
 * atomically), decompress a compressed ONNX model to a dense one, and inspect.
 */
public final class OnnxPalettizer {
    private final ModelPalettizer models;
    private final ForkJoinPool pool;

    /** Clusters through {@code models}' tensor palettizer and rebuilds through its backend, on {@code pool}. */
    public OnnxPalettizer(ModelPalettizer models, ForkJoinPool pool) {
        this.models = models;
        this.pool = pool;
    }

    /** One initializer: palettize it per {@code decision} (with optional sensitivities), or copy it and why. */
    private record Plan(OnnxInitializer tensor, WeightDecision decision, FloatSource sensitivities, String reason) {
        boolean palettize() {
            return decision != null;
        }
    }

    /**
     * Hands {@code use} the initializers {@code job} would palettize into {@code output}, as jobs in the
     * engine's orientation (sensitivities raw), while the files are open (see {@link ModelPalettizer.PlannedJobs}).
     */
    public <T> T withPlannedJobs(Path in, FileJobOptions job, OnnxOutput output,
                                 Function<ModelPalettizer.PlannedJobs, T> use) throws IOException {
        try (OnnxModel model = OnnxModel.open(in);
             SafetensorsFile sens = job.sensitivities() == null ? null : SafetensorsFile.open(job.sensitivities())) {
            List<TensorJob> jobs = model.initializers().stream().map(t -> plan(model, t, job, output, sens))
                    .filter(Plan::palettize)
                    .map(p -> new TensorJob(new TensorInput(p.tensor().name(), p.tensor().type().dtype(),
                            p.tensor().engineShape(), p.tensor().engineFloats(), p.sensitivities()), p.decision().spec(),
                            new ClusterMode(p.decision().fastMode(), p.decision().roundingPrecision())))
                    .toList();
            long payload = model.initializers().stream().mapToLong(OnnxInitializer::byteSize).sum();
            return use.apply(new ModelPalettizer.PlannedJobs(jobs, Files.size(in), payload));
        }
    }

    /**
     * Palettizes the initializers {@code job} chooses (same rules as for safetensors files; sensitivities
     * under the initializer names, in their stored shapes) into a compressed or dense ONNX model.
     */
    public List<TensorReport> palettize(Path in, Path out, FileJobOptions job, OnnxOutput output, Progress progress)
            throws IOException {
        ModelPalettizer.refuseOverwrite(in, out);
        if (job.sensitivities() != null) {
            ModelPalettizer.refuseOverwrite(job.sensitivities(), out);
        }
        try (OnnxModel model = OnnxModel.open(in);
             SafetensorsFile sens = job.sensitivities() == null ? null : SafetensorsFile.open(job.sensitivities())) {
            if (OnnxCompressedFormat.isCompressed(model)) {
                throw new ModelFormatException(in, "already holds palettized weights (metadata_props palettizer.format);"
                        + " decompress it first");
            }
            List<Plan> plans = model.initializers().stream().map(t -> plan(model, t, job, output, sens)).toList();
            progress.start(plans.stream().filter(Plan::palettize).mapToLong(p -> p.tensor().elementCount()).sum());
            List<ForkJoinTask<Outcome>> tasks = new ArrayList<>();
            for (Plan p : plans) {
                tasks.add(p.palettize() ? ForkJoinTask.adapt(() -> run(p, progress)) : null);
            }
            pool.invoke(ForkJoinTask.adapt(() -> ForkJoinTask.invokeAll(tasks.stream().filter(Objects::nonNull).toList())));

            OnnxWriter writer = new OnnxWriter(model);
            List<TensorReport> reports = new ArrayList<>();
            for (int i = 0; i < plans.size(); i++) {
                Plan p = plans.get(i);
                OnnxInitializer t = p.tensor();
                Outcome o = tasks.get(i) == null ? new Outcome.Skipped(t.name(), p.reason()) : tasks.get(i).join();
                switch (o) {
                    case Outcome.Palettized done -> {
                        PalettizedTensor pt = done.tensor();
                        if (output == OnnxOutput.COMPRESSED) {
                            writer.replaceCompressed(t, pt);
                        } else {
                            writer.replaceDense(t, models.densePayload(pt, t.transposed()));
                        }
                        reports.add(palettizedReport(p, done, output));
                    }
                    case Outcome.Skipped skipped -> reports.add(copiedReport(t, p.palettize()
                            ? skipped.reason() + " (spec from " + p.decision().reason() + ")" : skipped.reason()));
                }
            }
            writer.write(out);
            return reports;
        }
    }

    private Outcome run(Plan p, Progress progress) {
        OnnxInitializer t = p.tensor();
        WeightDecision d = p.decision();
        FloatSource sens = p.sensitivities() == null ? null : Sensitivities.normalized(p.sensitivities());
        TensorInput input = new TensorInput(t.name(), t.type().dtype(), t.engineShape(), t.engineFloats(), sens);
        TensorProgress tensor = new TensorProgress(progress, t.name(), t.elementCount());
        Outcome outcome = models.tensorPalettizer().palettize(input, d.spec(),
                new ClusterMode(d.fastMode(), d.roundingPrecision()), tensor);
        tensor.finish();
        return outcome;
    }

    /**
     * As for safetensors files: the resolver decides first; a weight it wants palettized is still copied
     * when it is not a float, is 1-D (unless asked for) or has no more elements than the weight threshold.
     */
    private static Plan plan(OnnxModel model, OnnxInitializer t, FileJobOptions job, OnnxOutput output,
                             SafetensorsFile sens) {
        if (!t.type().isPalettizable()) {
            return copy(t, "data_type " + t.type() + " is not a float type");
        }
        WeightDecision d = job.resolver().resolve(t.site());
        if (!d.palettized()) {
            return copy(t, d.reason());
        }
        long[] shape = t.shape();
        if (shape.length < 2 && !job.include1d()) {
            return copy(t, shape.length + "-D tensor (pass --include-1d to palettize it)");
        }
        if (t.elementCount() <= job.weightThreshold()) {
            return copy(t, t.elementCount() + " elements, not more than the weight threshold " + job.weightThreshold());
        }
        if (output == OnnxOutput.COMPRESSED) {
            OnnxCompressedFormat.checkWritable(model, t, d.spec());
        }
        if (sens == null) {
            return new Plan(t, d, null, d.reason());
        }
        SafetensorsFile.Entry s = sens.tensor(t.name()).orElse(null);
        if (s == null) {
            return new Plan(t, d, null, d.reason() + "; no sensitivities for this tensor: unweighted");
        }
        if (!Arrays.equals(s.shape(), shape)) {
            throw new ModelFormatException(sens.path(), t.name(), "sensitivities have shape " + Arrays.toString(s.shape())
                    + " but the initializer has shape " + Arrays.toString(shape));
        }
        FloatSource values = t.transposed() ? new TransposedSource(s.floats(), shape[0], shape[1]) : s.floats();
        return new Plan(t, d, values, d.reason());
    }

    private static Plan copy(OnnxInitializer t, String reason) {
        return new Plan(t, null, null, reason);
    }

    private static TensorReport palettizedReport(Plan p, Outcome.Palettized done, OnnxOutput output) {
        PalettizedTensor pt = done.tensor();
        OnnxInitializer t = p.tensor();
        long after = output == OnnxOutput.COMPRESSED ? pt.compressedBytes() : t.byteSize();
        return new TensorReport(t.name(), t.shape(), t.type().name(), true, p.reason(), pt.spec().nBits(),
                t.elementCount(), t.byteSize(), after, pt.error().snrDb(), pt.error().sse(), pt.error().weightedSse(),
                done.seconds(), done.note());
    }

    private static TensorReport copiedReport(OnnxInitializer t, String reason) {
        long bytes = t.byteSize();
        return new TensorReport(t.name(), t.shape(), t.type().name(), false, reason, 0, t.elementCount(), bytes, bytes,
                Double.NaN, Double.NaN, Double.NaN, 0);
    }

    /** Writes a dense ONNX model: every palettized weight's expansion replaced by its reconstruction. */
    public void decompress(Path in, Path out) throws IOException {
        ModelPalettizer.refuseOverwrite(in, out);
        try (OnnxModel model = OnnxModel.open(in)) {
            OnnxWriter writer = new OnnxWriter(model);
            for (OnnxCompressedModel.Weight w : OnnxCompressedFormat.read(model).palettized()) {
                writer.restore(w, models.densePayload(w.tensor(), w.transposed()));
            }
            writer.write(out);
        }
    }

    /** The palettized weights of a compressed model (none for a plain one) and the plain initializers. */
    public static OnnxCompressedModel inspect(OnnxModel model) {
        if (OnnxCompressedFormat.isCompressed(model)) {
            return OnnxCompressedFormat.read(model);
        }
        return new OnnxCompressedModel(List.of(), model.initializers().stream().map(OnnxInitializer::name).toList());
    }
}
