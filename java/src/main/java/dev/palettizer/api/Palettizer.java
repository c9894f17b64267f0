package dev.palettizer.api;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.BackendException;
import dev.palettizer.backend.JavaBackend;
import dev.palettizer.engine.EngineOptions;
import dev.palettizer.engine.FileJobOptions;
import dev.palettizer.engine.ModelPalettizer;
import dev.palettizer.engine.OnnxJobOptions;
import dev.palettizer.engine.OnnxPalettizer;
import dev.palettizer.engine.Outcome;
import dev.palettizer.engine.Progress;
import dev.palettizer.engine.TensorInput;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.io.CompressedModel;
import dev.palettizer.io.OnnxCompressedModel;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
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
    private final Backend backend;
    private final ModelPalettizer models;
    private final OnnxPalettizer onnx;

    private Palettizer(int workers, String backendName, EngineOptions options) {
        this.pool = new ForkJoinPool(workers);
        this.backend = createBackend(backendName, pool);
        this.models = new ModelPalettizer(backend, options, pool);
        this.onnx = new OnnxPalettizer(backend, options, pool);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Names accepted by {@link Builder#backend}. */
    public static final List<String> BACKENDS = List.of("auto", "java", "opencl", "cuda");

    private static Backend createBackend(String name, ForkJoinPool pool) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "auto", "java" -> new JavaBackend(pool);
            case "opencl", "cuda" -> throw new BackendException(BackendException.Status.NOT_SUPPORTED,
                    "backend '" + name + "' is not supported in this build yet; use --backend java (or auto)");
            default -> throw new BackendException(BackendException.Status.NOT_AVAILABLE,
                    "unknown backend '" + name + "'; choose one of " + BACKENDS);
        };
    }

    /** Name of the backend that runs the data-parallel steps. */
    public String backendName() {
        return backend.name();
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

    /** Dense values of a palettized tensor, row-major. */
    public float[] reconstruct(PalettizedTensor tensor) {
        return models.reconstruct(tensor);
    }

    /** Palettizes a safetensors file into a compressed safetensors file (written atomically). */
    public List<TensorReport> palettizeFile(Path in, Path out, FileJobOptions job, Progress progress) throws IOException {
        return models.palettize(in, out, job, progress);
    }

    /** Rebuilds a dense safetensors file from a compressed one. */
    public void decompressFile(Path in, Path out) throws IOException {
        models.decompress(in, out);
    }

    /** Reads a compressed (or plain) safetensors file's description. */
    public static CompressedModel inspect(Path file) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return ModelPalettizer.inspect(f);
        }
    }

    /**
     * Palettizes the initializers of an ONNX model that {@code job}'s resolver chooses, into a
     * compressed ONNX model (LUT + indices expanded by standard operators) or a dense one (written
     * atomically; external data when the input has it).
     */
    public List<TensorReport> palettizeOnnx(Path in, Path out, OnnxJobOptions job, Progress progress) throws IOException {
        return onnx.palettize(in, out, job, progress);
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

    /** Settings with defaults: all cores, auto backend, {@link EngineOptions#defaults()}. */
    public static final class Builder {
        private int workers = Runtime.getRuntime().availableProcessors();
        private String backend = "auto";
        private EngineOptions options = EngineOptions.defaults();

        public Builder workers(int n) {
            if (n < 1) {
                throw new SpecException("workers must be >= 1, got " + n);
            }
            this.workers = n;
            return this;
        }

        public Builder backend(String name) {
            this.backend = name;
            return this;
        }

        public Builder options(EngineOptions o) {
            this.options = o;
            return this;
        }

        public Palettizer build() {
            return new Palettizer(workers, backend, options);
        }
    }
}
