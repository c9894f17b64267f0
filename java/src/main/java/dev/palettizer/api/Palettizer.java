package dev.palettizer.api;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.BackendChoice;
import dev.palettizer.backend.BackendRegistry;
import dev.palettizer.budget.BitBudget;
import dev.palettizer.budget.MixedBitsPalettizer;
import dev.palettizer.engine.EngineOptions;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.FolderPalettizer;
import dev.palettizer.engine.ModelPalettizer;
import dev.palettizer.engine.OnnxOutput;
import dev.palettizer.engine.OnnxPalettizer;
import dev.palettizer.engine.Outcome;
import dev.palettizer.engine.Progress;
import dev.palettizer.engine.TensorInput;
import dev.palettizer.engine.TensorJob;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.io.CheckpointFolder;
import dev.palettizer.io.CompressedModel;
import dev.palettizer.io.OnnxCompressedModel;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.io.ShardedOutput;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;

/**
 * The library's entry point: palettize tensors or whole safetensors files, rebuild dense weights.
 * Holds a worker pool; close it when done. Thread-safe.
 *
 * <pre>{@code
 * try (Palettizer p = Palettizer.builder().workers(4).build()) {
 *     PalettizedTensor t = p.palettize(TensorInput.of("w", values, 4096, 4096), PalettizationSpec.defaults());
 *     float[] dense = p.reconstruct(t);
 * }
 * }</pre>
 */
public final class Palettizer implements AutoCloseable {
    private final ForkJoinPool pool;
    private final BackendChoice choice;
    private final Backend backend;
    private final ModelPalettizer models;
    private final OnnxPalettizer onnx;
    private final FolderPalettizer folders;
    private final MixedBitsPalettizer mixed;

    private Palettizer(int workers, String backendName, String device, EngineOptions options) {
        BackendRegistry registry = BackendRegistry.discover();
        this.choice = registry.choose(backendName, device);
        ForkJoinPool workerPool = new ForkJoinPool(workers);
        try {
            this.backend = registry.create(choice, workerPool);
        } catch (RuntimeException e) {
            workerPool.close();
            throw e;
        }
        this.pool = workerPool;
        this.models = new ModelPalettizer(backend, options, pool);
        this.onnx = new OnnxPalettizer(models, pool);
        this.folders = new FolderPalettizer(models, pool);
        this.mixed = new MixedBitsPalettizer(models, onnx);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Name of the backend that runs the data-parallel steps. */
    public String backendName() {
        return backend.name();
    }

    /** Which backend runs, on which device, and why (what auto weighed, in one line). */
    public BackendChoice backendChoice() {
        return choice;
    }

    /**
     * Palettizes one tensor. Tensors the spec does not fit (group size or cluster_dim not dividing
     * the channels) come back as {@link Outcome.Skipped} with the reason.
     */
    public Outcome palettizeTensor(TensorInput tensor, PalettizationSpec spec) {
        return models.tensorPalettizer().palettize(tensor, spec);
    }

    /** Palettizes one tensor, failing when the spec does not fit its shape. */
    public PalettizedTensor palettize(TensorInput tensor, PalettizationSpec spec) {
        return switch (palettizeTensor(tensor, spec)) {
            case Outcome.Palettized p -> p.tensor();
            case Outcome.Skipped s -> throw new SpecException(
                    "tensor '" + s.name() + "' cannot be palettized: " + s.reason());
        };
    }

    /** Palettizes tensors in parallel, each with its own spec and clustering settings; outcomes in job order. */
    public List<Outcome> palettizeAll(List<TensorJob> jobs, Progress progress) {
        return models.palettizeAll(jobs, progress);
    }

    /** Dense values of a palettized tensor, row-major. */
    public float[] reconstruct(PalettizedTensor tensor) {
        return models.reconstruct(tensor);
    }

    /** {@code t}'s dense values in its original dtype, for a safetensors writer; rebuilt only when written. */
    public SafetensorsWriter.Payload densePayload(PalettizedTensor t) {
        return models.densePayload(t);
    }

    /** Like {@link #densePayload(PalettizedTensor)}; {@code transposed}: written as the stored [in, out] transpose of the engine's 2-D tensor. */
    public SafetensorsWriter.Payload densePayload(PalettizedTensor t, boolean transposed) {
        return models.densePayload(t, transposed);
    }

    /**
     * Palettizes a safetensors file into a compressed safetensors file (written atomically); a
     * checkpoint folder or its index file goes to {@link #palettizeFolder} with the Hub's 5 GB shards.
     */
    public List<TensorReport> palettizeFile(Path in, Path out, FileJobOptions job, Progress progress) throws IOException {
        return CheckpointFolder.isFolder(in)
                ? palettizeFolder(in, out, job, ShardedOutput.DEFAULT_MAX_SHARD_BYTES, progress)
                : models.palettize(in, out, job, progress);
    }

    /** Rebuilds a dense safetensors file from a compressed one; a folder as {@link #decompressFolder}, 5 GB shards. */
    public void decompressFile(Path in, Path out) throws IOException {
        if (CheckpointFolder.isFolder(in)) {
            decompressFolder(in, out, ShardedOutput.DEFAULT_MAX_SHARD_BYTES);
        } else {
            models.decompress(in, out);
        }
    }

    /**
     * Palettizes a Hugging Face checkpoint folder (shards + {@code model.safetensors.index.json}, or a
     * folder of one {@code .safetensors} file; or the index file itself) into a folder of compressed
     * shards of at most {@code maxShardBytes} each, an index of every stored tensor, and the other
     * files copied unchanged. Tensors stream: memory holds a few at a time. The output folder appears
     * atomically and replaces an existing checkpoint folder only once complete.
     */
    public List<TensorReport> palettizeFolder(Path in, Path out, FileJobOptions job, long maxShardBytes,
                                              Progress progress) throws IOException {
        return folders.palettize(in, out, job, maxShardBytes, progress);
    }

    /** Rebuilds a dense checkpoint folder (original dtypes, shards of at most {@code maxShardBytes}) from a palettized one. */
    public void decompressFolder(Path in, Path out, long maxShardBytes) throws IOException {
        folders.decompress(in, out, maxShardBytes);
    }

    /** Each shard of a checkpoint folder with its palettized tensors and plain tensor names, in shard order. */
    public static Map<Path, CompressedModel> inspectFolder(Path folder) throws IOException {
        try (CheckpointFolder f = CheckpointFolder.open(folder)) {
            return FolderPalettizer.inspect(f);
        }
    }

    /** Reads a compressed (or plain) safetensors file's description. */
    public static CompressedModel inspect(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return ModelPalettizer.inspect(f);
        }
    }

    /**
     * Palettizes the initializers of an ONNX model that {@code job} chooses (as for safetensors files),
     * into a compressed ONNX model (LUT + indices expanded by standard operators) or a dense one
     * (written atomically; external data when the input has it).
     */
    public List<TensorReport> palettizeOnnx(Path in, Path out, FileJobOptions job, OnnxOutput output, Progress progress)
            throws IOException {
        return onnx.palettize(in, out, job, output, progress);
    }

    /**
     * Palettizes a safetensors file ({@code .onnx}: an ONNX model, into {@code output}) within an average
     * bit budget: {@code job}'s rules choose the tensors and the rest of their spec, the budget each one's
     * bits and granularity, minimising the predicted error (see {@code dev.palettizer.budget}).
     *
     * @param curves told about the candidates' clustering before the run; {@code progress}, about the run
     */
    public MixedBitsPalettizer.Result palettizeWithin(Path in, Path out, FileJobOptions job, BitBudget budget,
                                                      OnnxOutput output, Progress curves, Progress progress)
            throws IOException {
        if (CheckpointFolder.isFolder(in)) {
            throw new SpecException(in + ": a bit budget is not supported for checkpoint folders; palettize the"
                    + " folder with one spec or a config, or give the budget one safetensors file");
        }
        return OnnxModel.hasOnnxName(in)
                ? mixed.palettizeOnnx(in, out, job, budget, output, curves, progress)
                : mixed.palettizeFile(in, out, job, budget, curves, progress);
    }

    /** Rebuilds a dense ONNX model from a compressed one. */
    public void decompressOnnx(Path in, Path out) throws IOException {
        onnx.decompress(in, out);
    }

    /** The palettized weights of an ONNX model (none for a plain one) and the names of its other initializers. */
    public static OnnxCompressedModel inspectOnnx(Path file) throws IOException {
        try (OnnxModel m = OnnxModel.open(file)) {
            return OnnxPalettizer.inspect(m);
        }
    }

    @Override
    public void close() {
        backend.close();
        pool.close();
    }

    /** Settings with defaults: all cores, auto backend on its first usable device, {@link EngineOptions#defaults()}. */
    public static final class Builder {
        private int workers = Runtime.getRuntime().availableProcessors();
        private String backend = BackendRegistry.AUTO;
        private String device;
        private EngineOptions options = EngineOptions.defaults();

        public Builder workers(int n) {
            if (n < 1) {
                throw new SpecException("workers must be >= 1, got " + n);
            }
            this.workers = n;
            return this;
        }

        /** "auto" (the default: CUDA, then an OpenCL GPU, then Java), "java", "opencl" or "cuda". */
        public Builder backend(String name) {
            this.backend = name;
            return this;
        }

        /** The backend's device: an index or part of its name; null (the default) for the first usable one. */
        public Builder device(String device) {
            if (device != null && device.isBlank()) {
                throw new SpecException("device must be an index or part of a device name, got a blank string");
            }
            this.device = device;
            return this;
        }

        public Builder options(EngineOptions o) {
            this.options = o;
            return this;
        }

        public Palettizer build() {
            return new Palettizer(workers, backend, device, options);
        }
    }
}
