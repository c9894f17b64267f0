package dev.palettizer.engine;

import dev.palettizer.backend.Backend;
import dev.palettizer.io.CompressedFormat;
import dev.palettizer.io.CompressedModel;
import dev.palettizer.io.CompressedWriter;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsSites;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.WeightSite;
import dev.palettizer.spec.WeightDecision;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
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

    /**
     * What to do with one input tensor: palettize it as decided (with optional sensitivities), or copy
     * it when the decision is null; and why.
     */
    record Plan(SafetensorsFile.Entry entry, WeightDecision decision, FloatSource sensitivities, String reason) {
        boolean palettize() {
            return decision != null;
        }
    }

    /**
     * The tensors a job would palettize, as jobs (the resolver's spec and mode, sensitivities raw: not
     * normalised), with the input's size and the bytes of all its tensors' data: what a planner that
     * prices other specs before the run needs (dev.palettizer.budget).
     */
    public record PlannedJobs(List<TensorJob> jobs, long fileBytes, long payloadBytes) {
        public PlannedJobs {
            jobs = List.copyOf(jobs);
        }
    }

    /** Hands {@code use} the {@link PlannedJobs} of {@code in} while its files are open. */
    public <T> T withPlannedJobs(Path in, FileJobOptions job, Function<PlannedJobs, T> use) throws IOException {
        try (SafetensorsFile model = SafetensorsFile.open(in);
             SafetensorsFile sens = job.sensitivities() == null ? null : SafetensorsFile.open(job.sensitivities())) {
            Map<String, WeightSite> sites = SafetensorsSites.of(model.tensors());
            List<TensorJob> jobs = model.tensors().stream()
                    .map(e -> plan(e, sites.get(e.name()), job, sens == null ? null : sens::tensor))
                    .filter(Plan::palettize)
                    .map(p -> new TensorJob(new TensorInput(p.entry().name(), p.entry().dtype(), p.entry().shape(),
                            p.entry().floats(), p.sensitivities()), p.decision().spec(),
                            new ClusterMode(p.decision().fastMode(), p.decision().roundingPrecision())))
                    .toList();
            long payload = model.tensors().stream().mapToLong(e -> e.data().byteSize()).sum();
            return use.apply(new PlannedJobs(jobs, Files.size(in), payload));
        }
    }

    public List<TensorReport> palettize(Path in, Path out, FileJobOptions job, Progress progress) throws IOException {
        refuseOverwrite(in, out);
        if (job.sensitivities() != null) {
            refuseOverwrite(job.sensitivities(), out);
        }
        try (SafetensorsFile model = SafetensorsFile.open(in);
             SafetensorsFile sens = job.sensitivities() == null ? null : SafetensorsFile.open(job.sensitivities())) {
            Map<String, WeightSite> sites = SafetensorsSites.of(model.tensors());
            List<Plan> plans = model.tensors().stream()
                    .map(e -> plan(e, sites.get(e.name()), job, sens == null ? null : sens::tensor)).toList();
            progress.start(plans.stream().filter(Plan::palettize).mapToLong(p -> p.entry().elementCount()).sum());
            List<ForkJoinTask<Outcome>> tasks = new ArrayList<>();
            for (Plan p : plans) {
                tasks.add(p.palettize() ? ForkJoinTask.adapt(() -> run(p, progress)) : null);
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
                        String reason = p.palettize()
                                ? skipped.reason() + " (spec from " + p.decision().reason() + ")" : skipped.reason();
                        reports.add(copiedReport(p.entry(), reason));
                    }
                }
            }
            writer.write(out);
            return reports;
        }
    }

    /**
     * Palettizes the jobs in parallel, across tensors and within each, reporting every finished tensor
     * to {@code progress}; outcomes come back in job order.
     */
    public List<Outcome> palettizeAll(List<TensorJob> jobs, Progress progress) {
        progress.start(jobs.stream().mapToLong(j -> j.input().values().size()).sum());
        List<ForkJoinTask<Outcome>> tasks = jobs.stream().map(j -> ForkJoinTask.adapt(() -> {
            TensorProgress tensor = new TensorProgress(progress, j.input().name(), j.input().values().size());
            Outcome o = palettizer.palettize(j.input(), j.spec(), j.mode(), tensor);
            tensor.finish();
            return o;
        })).toList();
        pool.invoke(ForkJoinTask.adapt(() -> ForkJoinTask.invokeAll(tasks)));
        return tasks.stream().map(ForkJoinTask::join).toList();
    }

    Outcome run(Plan p, Progress progress) {
        SafetensorsFile.Entry e = p.entry();
        FloatSource sens = p.sensitivities() == null ? null : Sensitivities.normalized(p.sensitivities());
        WeightDecision d = p.decision();
        TensorProgress tensor = new TensorProgress(progress, e.name(), e.elementCount());
        Outcome o = palettizer.palettize(new TensorInput(e.name(), e.dtype(), e.shape(), e.floats(), sens), d.spec(),
                new ClusterMode(d.fastMode(), d.roundingPrecision()), tensor);
        tensor.finish();
        return o;
    }

    /**
     * The resolver decides first; a tensor it wants palettized is still copied when it is not a float,
     * is 1-D (unless asked for) or has no more elements than the weight threshold (seed semantics).
     * {@code sens} finds a tensor's sensitivities by name (null: none given).
     */
    static Plan plan(SafetensorsFile.Entry e, WeightSite site, FileJobOptions job,
                     Function<String, Optional<SafetensorsFile.Entry>> sens) {
        if (!e.dtype().isPalettizable()) {
            return copy(e, "dtype " + e.dtype() + " is not a float type");
        }
        WeightDecision d = job.resolver().resolve(site);
        if (!d.palettized()) {
            return copy(e, d.reason());
        }
        if (e.shape().length < 2 && !job.include1d()) {
            return copy(e, e.shape().length + "-D tensor (pass --include-1d to palettize it)");
        }
        if (e.elementCount() <= job.weightThreshold()) {
            return copy(e, e.elementCount() + " elements, not more than the weight threshold " + job.weightThreshold());
        }
        if (sens == null) {
            return new Plan(e, d, null, d.reason());
        }
        SafetensorsFile.Entry s = sens.apply(e.name()).orElse(null);
        if (s == null) {
            return new Plan(e, d, null, d.reason() + "; no sensitivities for this tensor: unweighted");
        }
        if (!Arrays.equals(s.shape(), e.shape())) {
            throw new ModelFormatException(s.file(), e.name(), "sensitivities have shape " + Arrays.toString(s.shape())
                    + " but the weight has shape " + Arrays.toString(e.shape()));
        }
        return new Plan(e, d, s.floats(), d.reason());
    }

    private static Plan copy(SafetensorsFile.Entry e, String reason) {
        return new Plan(e, null, null, reason);
    }

    /** Fails before the work starts; the writer checks again when it renames the file into place. */
    static void refuseOverwrite(Path in, Path out) throws IOException {
        if (Files.exists(out) && Files.isSameFile(in, out)) {
            throw new ModelFormatException(out, "output path equals input path; choose another output file");
        }
    }

    interface MetadataSink {
        void put(String key, String value);
    }

    static void copyUserMetadata(Map<String, String> metadata, MetadataSink sink) {
        metadata.forEach((k, v) -> {
            if (!k.startsWith(RESERVED_METADATA_PREFIX)) {
                sink.put(k, v);
            }
        });
    }

    static TensorReport palettizedReport(Plan p, Outcome.Palettized done) {
        PalettizedTensor t = done.tensor();
        SafetensorsFile.Entry e = p.entry();
        return new TensorReport(e.name(), e.shape(), e.dtype().name(), true, p.reason(), t.spec().nBits(),
                e.elementCount(), e.data().byteSize(), t.compressedBytes(), t.error().snrDb(), t.error().sse(),
                t.error().weightedSse(), done.seconds(), done.note());
    }

    static TensorReport copiedReport(SafetensorsFile.Entry e, String reason) {
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
                writer.add(new SafetensorsWriter.Tensor(t.name(), t.originalDType(), t.shape(), densePayload(t)));
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
        float[] dense = RaggedGroups.reconstruct(backend, layout, t.lut(), t.spec().lutSize(), indices, t.channelScales());
        if (t.outliers() != null) {
            t.outliers().applyTo(dense);
        }
        return dense;
    }

    /** {@code t}'s dense values in its original dtype, rebuilt only when written (one tensor in memory at a time). */
    public SafetensorsWriter.Payload densePayload(PalettizedTensor t) {
        return new DensePayload(t, false);
    }

    /**
     * Like {@link #densePayload(PalettizedTensor)}; {@code transposed}: {@code t} is a 2-D tensor in the
     * engine's [out, in] orientation, written back as the stored [in, out] matrix (ONNX MatMul weights).
     */
    public SafetensorsWriter.Payload densePayload(PalettizedTensor t, boolean transposed) {
        if (transposed && t.shape().length != 2) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': only 2-D tensors can be transposed");
        }
        return new DensePayload(t, transposed);
    }

    /** Rebuilds the tensor only when the writer reaches it, so one dense tensor is in memory at a time. */
    private final class DensePayload implements SafetensorsWriter.Payload {
        private final PalettizedTensor t;
        private final boolean transposed;

        DensePayload(PalettizedTensor t, boolean transposed) {
            this.t = t;
            this.transposed = transposed;
        }

        @Override
        public long byteSize() {
            return t.elementCount() * t.originalDType().byteSize();
        }

        @Override
        public void writeTo(WritableByteChannel channel) throws IOException {
            float[] values = reconstruct(t);
            FloatChannelWriter out = new FloatChannelWriter(channel, t.originalDType());
            if (!transposed) {
                for (float v : values) {
                    out.put(v);
                }
            } else {
                int rows = (int) t.shape()[0];
                int cols = (int) t.shape()[1];
                for (int c = 0; c < cols; c++) {
                    for (int r = 0; r < rows; r++) {
                        out.put(values[r * cols + c]);
                    }
                }
            }
            out.flush();
        }
    }

    /** The compressed file's palettized tensors and the names of its plain ones. */
    public static CompressedModel inspect(SafetensorsFile file) {
        return CompressedFormat.read(file);
    }
}
