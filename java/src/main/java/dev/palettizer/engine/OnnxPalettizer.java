package dev.palettizer.engine;

import dev.palettizer.backend.Backend;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * Whole ONNX models: palettize the initializers a {@code SpecResolver} chooses (read mapped,
 * cluster in parallel through {@link TensorPalettizer}, write a compressed or dense ONNX model
 * atomically), decompress a compressed ONNX model to a dense one, and inspect.
 */
public final class OnnxPalettizer {
    private final Backend backend;
    private final EngineOptions options;
    private final ForkJoinPool pool;
    private final ModelPalettizer models;

    public OnnxPalettizer(Backend backend, EngineOptions options, ForkJoinPool pool) {
        this.backend = backend;
        this.options = options;
        this.pool = pool;
        this.models = new ModelPalettizer(backend, options, pool);
    }

    /** One initializer: palettize it per {@code decision} (with optional sensitivities), or copy it and why. */
    private record Plan(OnnxInitializer tensor, WeightDecision decision, FloatSource sensitivities, String reason) {
        boolean palettize() {
            return decision != null;
        }
    }

    public List<TensorReport> palettize(Path in, Path out, OnnxJobOptions job, Progress progress) throws IOException {
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
            List<Plan> plans = model.initializers().stream().map(t -> plan(model, t, job, sens)).toList();
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
                        if (job.output() == OnnxOutput.COMPRESSED) {
                            writer.replaceCompressed(t, pt);
                        } else {
                            writer.replaceDense(t, new DensePayload(models, pt, t.transposed()));
                        }
                        reports.add(palettizedReport(p, done, job.output()));
                    }
                    case Outcome.Skipped skipped -> reports.add(copiedReport(t, skipped.reason()));
                }
            }
            writer.write(out);
            return reports;
        }
    }

    private Outcome run(Plan p, Progress progress) {
        OnnxInitializer t = p.tensor();
        WeightDecision d = p.decision();
        EngineOptions o = options.withFastMode(d.fastMode()).withRoundingPrecision(d.roundingPrecision());
        FloatSource sens = p.sensitivities() == null ? null : Sensitivities.normalized(p.sensitivities());
        TensorInput input = new TensorInput(t.name(), t.type().dtype(), t.engineShape(), t.engineFloats(), sens);
        Outcome outcome = new TensorPalettizer(backend, o, pool).palettize(input, d.spec());
        progress.done(t.name(), t.elementCount());
        return outcome;
    }

    private static Plan plan(OnnxModel model, OnnxInitializer t, OnnxJobOptions job, SafetensorsFile sens) {
        if (!t.type().isPalettizable()) {
            return new Plan(t, null, null, "data_type " + t.type() + " is not a float type");
        }
        long[] shape = t.shape();
        if (shape.length < 2 && !job.include1d()) {
            return new Plan(t, null, null, shape.length + "-D tensor (pass --include-1d to palettize it)");
        }
        if (t.elementCount() < job.weightThreshold()) {
            return new Plan(t, null, null, t.elementCount() + " elements < weight threshold " + job.weightThreshold());
        }
        WeightDecision decision = job.resolver().resolve(t.site());
        if (!decision.palettized()) {
            return new Plan(t, null, null, decision.reason());
        }
        if (job.output() == OnnxOutput.COMPRESSED) {
            OnnxCompressedFormat.checkWritable(model, t, decision.spec());
        }
        if (sens == null) {
            return new Plan(t, decision, null, null);
        }
        SafetensorsFile.Entry s = sens.tensor(t.name()).orElse(null);
        if (s == null) {
            return new Plan(t, decision, null, "no sensitivities for this tensor: unweighted");
        }
        if (!Arrays.equals(s.shape(), shape)) {
            throw new ModelFormatException(sens.path(), t.name(), "sensitivities have shape " + Arrays.toString(s.shape())
                    + " but the initializer has shape " + Arrays.toString(shape));
        }
        FloatSource values = t.transposed() ? new TransposedSource(s.floats(), shape[0], shape[1]) : s.floats();
        return new Plan(t, decision, values, null);
    }

    private static TensorReport palettizedReport(Plan p, Outcome.Palettized done, OnnxOutput output) {
        PalettizedTensor pt = done.tensor();
        OnnxInitializer t = p.tensor();
        long after = output == OnnxOutput.COMPRESSED ? pt.compressedBytes() : t.byteSize();
        return new TensorReport(t.name(), t.shape(), t.type().name(), true, p.reason(), pt.spec().nBits(),
                t.elementCount(), t.byteSize(), after, pt.error().snrDb(), pt.error().sse(), pt.error().weightedSse(),
                done.seconds());
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
                writer.restore(w, new DensePayload(models, w.tensor(), w.transposed()));
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
