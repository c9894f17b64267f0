package dev.palettizer.engine;

import dev.palettizer.backend.Backend;
import dev.palettizer.io.CompressedFormat;
import dev.palettizer.io.CompressedModel;
import dev.palettizer.io.CompressedWriter;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.model.PalettizedTensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * Whole safetensors files: palettize (read mapped, choose tensors, cluster in parallel, write the
 * compressed file atomically), decompress back to dense tensors, and inspect.
 */
public final class ModelPalettizer {
    /** Metadata keys of the compressed format itself; never copied from an input file. */
    private static final String RESERVED_METADATA_PREFIX = "palettizer.";

    private final TensorPalettizer palettizer;
    private final Backend backend;
    private final ForkJoinPool pool;

    public ModelPalettizer(Backend backend, EngineOptions options, ForkJoinPool pool) {
        this.palettizer = new TensorPalettizer(backend, options, pool);
        this.backend = backend;
        this.pool = pool;
    }

    public TensorPalettizer tensorPalettizer() {
        return palettizer;
    }

    /** What to do with one input tensor: palettize it (with optional sensitivities) or copy it, and why. */
    private record Plan(SafetensorsFile.Entry entry, boolean palettize, FloatSource sensitivities, String reason) {}

    public List<TensorReport> palettize(Path in, Path out, FileJobOptions job, Progress progress) throws IOException {
        refuseOverwrite(in, out);
        if (job.sensitivities() != null) {
            refuseOverwrite(job.sensitivities(), out);
        }
        try (SafetensorsFile model = SafetensorsFile.open(in);
             SafetensorsFile sens = job.sensitivities() == null ? null : SafetensorsFile.open(job.sensitivities())) {
            List<Plan> plans = model.tensors().stream().map(e -> plan(e, job, sens)).toList();
            progress.start(plans.stream().filter(Plan::palettize).mapToLong(p -> p.entry().elementCount()).sum());
            List<ForkJoinTask<Outcome>> tasks = new ArrayList<>();
            for (Plan p : plans) {
                tasks.add(p.palettize() ? ForkJoinTask.adapt(() -> run(p, job, progress)) : null);
            }
            pool.invoke(ForkJoinTask.adapt(() -> ForkJoinTask.invokeAll(tasks.stream().filter(t -> t != null).toList())));

            CompressedWriter writer = new CompressedWriter().forbidOverwriting(in);
            if (job.sensitivities() != null) {
                writer.forbidOverwriting(job.sensitivities());
            }
            copyUserMetadata(model.metadata(), writer::putMetadata);
            List<TensorReport> reports = new ArrayList<>();
            for (int i = 0; i < plans.size(); i++) {
                Plan p = plans.get(i);
                Outcome o = tasks.get(i) == null ? new Outcome.Skipped(p.entry().name(), p.reason()) : tasks.get(i).join();
                switch (o) {
                    case Outcome.Palettized done -> {
                        writer.addPalettized(done.tensor());
                        reports.add(palettizedReport(p, done));
                    }
                    case Outcome.Skipped skipped -> {
                        writer.addPlain(SafetensorsWriter.Tensor.copyOf(p.entry()));
                        reports.add(copiedReport(p.entry(), skipped.reason()));
                    }
                }
            }
            writer.write(out);
            return reports;
        }
    }

    private Outcome run(Plan p, FileJobOptions job, Progress progress) {
        SafetensorsFile.Entry e = p.entry();
        FloatSource sens = p.sensitivities() == null ? null : Sensitivities.normalized(p.sensitivities());
        Outcome o = palettizer.palettize(new TensorInput(e.name(), e.dtype(), e.shape(), e.floats(), sens), job.spec());
        progress.done(e.name(), e.elementCount());
        return o;
    }

    private static Plan plan(SafetensorsFile.Entry e, FileJobOptions job, SafetensorsFile sens) {
        if (!e.dtype().isPalettizable()) {
            return new Plan(e, false, null, "dtype " + e.dtype() + " is not a float type");
        }
        if (e.shape().length < 2 && !job.include1d()) {
            return new Plan(e, false, null, e.shape().length + "-D tensor (pass --include-1d to palettize it)");
        }
        if (e.elementCount() < job.weightThreshold()) {
            return new Plan(e, false, null, e.elementCount() + " elements < weight threshold " + job.weightThreshold());
        }
        if (sens == null) {
            return new Plan(e, true, null, null);
        }
        SafetensorsFile.Entry s = sens.tensor(e.name()).orElse(null);
        if (s == null) {
            return new Plan(e, true, null, "no sensitivities for this tensor: unweighted");
        }
        if (!Arrays.equals(s.shape(), e.shape())) {
            throw new ModelFormatException(sens.path(), e.name(), "sensitivities have shape " + Arrays.toString(s.shape())
                    + " but the weight has shape " + Arrays.toString(e.shape()));
        }
        return new Plan(e, true, s.floats(), null);
    }

    /** Fails before the work starts; the writer checks again when it renames the file into place. */
    static void refuseOverwrite(Path in, Path out) throws IOException {
        if (Files.exists(out) && Files.isSameFile(in, out)) {
            throw new ModelFormatException(out, "output path equals input path; choose another output file");
        }
    }

    private interface MetadataSink {
        void put(String key, String value);
    }

    private static void copyUserMetadata(Map<String, String> metadata, MetadataSink sink) {
        metadata.forEach((k, v) -> {
            if (!k.startsWith(RESERVED_METADATA_PREFIX)) {
                sink.put(k, v);
            }
        });
    }

    private static TensorReport palettizedReport(Plan p, Outcome.Palettized done) {
        PalettizedTensor t = done.tensor();
        SafetensorsFile.Entry e = p.entry();
        return new TensorReport(e.name(), e.shape(), e.dtype().name(), true, p.reason(), t.spec().nBits(),
                e.elementCount(), e.data().byteSize(), t.compressedBytes(), t.error().snrDb(), t.error().sse(),
                t.error().weightedSse(), done.seconds());
    }

    private static TensorReport copiedReport(SafetensorsFile.Entry e, String reason) {
        long bytes = e.data().byteSize();
        return new TensorReport(e.name(), e.shape(), e.dtype().name(), false, reason, 0, e.elementCount(), bytes, bytes,
                Double.NaN, Double.NaN, Double.NaN, 0);
    }

    // ---------------------------------------------------------------- decompress and inspect

    /** Writes a dense safetensors file: palettized tensors rebuilt in their original dtype, others copied. */
    public void decompress(Path in, Path out) throws IOException {
        refuseOverwrite(in, out);
        try (SafetensorsFile file = SafetensorsFile.open(in)) {
            CompressedModel model = CompressedFormat.read(file);
            SafetensorsWriter writer = new SafetensorsWriter().forbidOverwriting(in);
            copyUserMetadata(file.metadata(), writer::putMetadata);
            for (PalettizedTensor t : model.palettized()) {
                writer.add(new SafetensorsWriter.Tensor(t.name(), t.originalDType(), t.shape(),
                        new DensePayload(this, t, false)));
            }
            for (String name : model.plainTensors()) {
                writer.add(SafetensorsWriter.Tensor.copyOf(file.tensor(name).orElseThrow()));
            }
            writer.write(out);
        }
    }

    /** Dense values of a palettized tensor, in row-major order. */
    public float[] reconstruct(PalettizedTensor t) {
        GroupLayout layout = GroupLayout.of(t.shape(), t.spec()).layout().orElseThrow(
                () -> new ModelFormatException(Path.of(t.name()), t.name(), "spec does not fit shape"));
        byte[] indices = backend.unpack(t.packedIndices(), t.indexCount(), t.spec().nBits());
        return backend.reconstruct(layout, t.lut(), t.spec().lutSize(), indices, t.channelScales());
    }

    /** The compressed file's palettized tensors and the names of its plain ones. */
    public static CompressedModel inspect(SafetensorsFile file) {
        return CompressedFormat.read(file);
    }
}
