package dev.palettizer.api;

import dev.palettizer.api.ModelWeights.Weight;
import dev.palettizer.api.PreparedModel.TensorResult;
import dev.palettizer.engine.EngineOptions;
import dev.palettizer.engine.Outcome;
import dev.palettizer.engine.Progress;
import dev.palettizer.engine.Sensitivities;
import dev.palettizer.engine.TensorDataException;
import dev.palettizer.engine.TensorInput;
import dev.palettizer.engine.ClusterMode;
import dev.palettizer.engine.TensorJob;
import dev.palettizer.io.CheckpointFolder;
import dev.palettizer.io.FloatSourcePayload;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.FloatSource;
import dev.palettizer.spec.SpecResolver;
import dev.palettizer.spec.WeightDecision;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Palettizes a whole model the way the seed's {@code KMeansPalettizer} does, for JVM trainers:
 * {@link #prepare} clusters every weight the resolver (a config) gives a spec, {@link #calibrate}
 * takes the trainer's gradients and recomputes the LUTs weighted by them, {@link #saveSensitivities}
 * keeps those for a later {@code prepare}, and {@link #finalize(ExportFormat, Path, FinalizeOptions)}
 * writes the compressed model: a safetensors file, or for a model opened from ONNX a compressed or
 * dense ONNX model. The model's weights are read, never modified. Holds a worker pool from
 * {@code prepare} on: close it when done. Thread-safe.
 *
 * <pre>{@code
 * try (KMeansPalettizer palettizer = new KMeansPalettizer(model, config)) {
 *     PreparedModel prepared = palettizer.prepare(PrepareOptions.defaults().withWorkers(4));
 *     float[] w = prepared.weights("fc1.weight");             // palettized values, for evaluation
 *     palettizer.finalize(ExportFormat.COMPRESSED_SAFETENSORS, Path.of("model.pal.safetensors")).close();
 * }
 * }</pre>
 */
public final class KMeansPalettizer implements AutoCloseable {
    private final ModelWeights model;
    private final SpecResolver resolver;
    private final Object lock = new Object();
    private Prepared state;
    private Calibration calibration;
    private boolean closed;

    /** A weight and what the resolver decided for it. */
    private record Target(Weight weight, WeightDecision decision) {}

    /**
     * What prepare set up: its settings, the engine, each weight's decision, the normalised
     * sensitivities in use (with where they came from) and the current prepared model.
     */
    private static final class Prepared {
        final PrepareOptions options;
        final Palettizer engine;
        final List<Target> targets;
        final CheckpointFolder sensitivityFile;
        final Map<String, FloatSource> sensitivities = new HashMap<>();
        final Map<String, String> sensitivityOrigin = new HashMap<>();
        PreparedModel model;

        Prepared(PrepareOptions options, Palettizer engine, List<Target> targets, CheckpointFolder sensitivityFile) {
            this.options = options;
            this.engine = engine;
            this.targets = targets;
            this.sensitivityFile = sensitivityFile;
        }

        void close() {
            engine.close();
            if (sensitivityFile != null) {
                sensitivityFile.close();
            }
        }
    }

    /**
     * @param model the weights; must stay open (and its arrays unchanged) while this palettizer works on them
     * @param resolver decides per weight: a spec and clustering mode, or leave it (a config, or
     *     {@link SpecResolver#uniform})
     */
    public KMeansPalettizer(ModelWeights model, SpecResolver resolver) {
        this.model = Objects.requireNonNull(model, "model");
        this.resolver = Objects.requireNonNull(resolver, "resolver");
    }

    /**
     * Palettizes every weight the resolver gives a spec, weighted by the sensitivity file if one is
     * given. Weights whose spec does not fit their shape are left as they are and listed in
     * {@link PreparedModel#skipped()}.
     *
     * @throws IllegalStateException if this palettizer has prepared the model already (once only, as the seed)
     * @throws ModelFormatException if the sensitivity file is malformed or a sensitivity's shape differs from its weight's
     */
    public PreparedModel prepare(PrepareOptions options) throws IOException {
        Objects.requireNonNull(options, "options");
        synchronized (lock) {
            checkOpen();
            if (state != null) {
                throw new IllegalStateException("the model has already been prepared; a KMeansPalettizer prepares"
                        + " once (create a new one to start over)");
            }
            List<Target> targets = decide();
            CheckpointFolder sensitivities = null;
            Palettizer engine = null;
            try {
                sensitivities = options.sensitivities() == null ? null : CheckpointFolder.open(options.sensitivities());
                engine = Palettizer.builder().workers(options.workers()).backend(options.backend())
                        .options(EngineOptions.defaults().withSeed(options.seed())).build();
                Prepared p = new Prepared(options, engine, targets, sensitivities);
                if (sensitivities != null) {
                    loadSensitivities(p);
                }
                p.model = new PreparedModel(run(p, targets.stream().filter(t -> t.decision().palettized()).toList(),
                        Map.of()), p.engine::reconstruct);
                state = p;
                return p.model;
            } catch (IOException | RuntimeException | Error e) {
                if (engine != null) {
                    engine.close();
                }
                if (sensitivities != null) {
                    sensitivities.close();
                }
                throw e;
            }
        }
    }

    /** The current prepared model: the one prepare returned, or the recomputed one after a calibration. */
    public PreparedModel prepared() {
        synchronized (lock) {
            return requirePrepared("reading the prepared model").model;
        }
    }

    /**
     * Opens a calibration (the seed's {@code calibration_mode}); see {@link Calibration}. Closing it
     * recomputes the LUTs with the new sensitivities, with the workers and progress output of prepare.
     *
     * @throws IllegalStateException if the model is not prepared or a calibration is already open
     */
    public Calibration calibrate() {
        synchronized (lock) {
            Prepared p = requirePrepared("entering calibration");
            if (calibration != null) {
                throw new IllegalStateException("a calibration is already open; close it before opening another");
            }
            Map<String, Long> lengths = new LinkedHashMap<>();
            for (Target t : p.targets) {
                if (t.weight().isFloat()) {
                    lengths.put(t.weight().name(), t.weight().elementCount());
                }
            }
            // Skipped weights (spec not fitting) stay unpalettized, so their gradients are not kept (as the seed drops them).
            Set<String> palettized = p.model.palettized().keySet();
            Calibration c = new Calibration(lengths, palettized, new Calibration.Finisher() {
                @Override
                public void finish(Map<String, float[]> sums, long steps) {
                    recalibrate(sums, steps);
                }

                @Override
                public void abandon() {
                    synchronized (lock) {
                        calibration = null;
                    }
                }
            });
            calibration = c;
            return c;
        }
    }

    /**
     * Writes the sensitivities in use (normalised, F32, under the weights' names and shapes) to a
     * safetensors file, atomically; {@code prepare} reads them back through
     * {@link PrepareOptions#withSensitivities}.
     *
     * @throws IllegalStateException if the model is not prepared or there are no sensitivities (no
     *     calibration, no sensitivity file), as in the seed
     */
    public void saveSensitivities(Path path) throws IOException {
        synchronized (lock) {
            Prepared p = requirePrepared("saving sensitivities");
            List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
            for (Target t : p.targets) {
                FloatSource s = p.sensitivities.get(t.weight().name());
                if (s != null && p.model.palettized(t.weight().name()).isPresent()) {
                    tensors.add(new SafetensorsWriter.Tensor(t.weight().name(), DType.F32, t.weight().shape(),
                            new FloatSourcePayload(s)));
                }
            }
            if (tensors.isEmpty()) {
                throw new IllegalStateException("no sensitivities to save: calibrate() first, or prepare with a"
                        + " sensitivity file (PrepareOptions.withSensitivities)");
            }
            SafetensorsWriter writer = new SafetensorsWriter().addAll(tensors);
            inputs(p).forEach(writer::forbidOverwriting);
            writer.write(path);
        }
    }

    /** {@link #finalize(ExportFormat, Path, FinalizeOptions)} without a mmap folder. */
    public FinalizedModel finalize(ExportFormat format, Path output) throws IOException {
        return finalize(format, output, FinalizeOptions.defaults());
    }

    /**
     * Writes the prepared model in {@code format} to {@code output} (atomically: a temporary file
     * renamed into place); with {@link FinalizeOptions#mmapDir()} set, also writes the finalized dense
     * weights there and maps them back ({@link FinalizedModel#mapped()}), so that the trainer's
     * dense arrays can be released.
     *
     * @throws UnsupportedOperationException for ONNX output of a model not opened from ONNX (there is no
     *     graph to write), or compressed safetensors of one that was
     * @throws dev.palettizer.spec.SpecException if a palettized weight cannot be expanded in the model's
     *     opset (the message names the tensor); nothing is written
     * @throws IllegalStateException if the model is not prepared or a calibration is open
     */
    public FinalizedModel finalize(ExportFormat format, Path output, FinalizeOptions options) throws IOException {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(options, "options");
        synchronized (lock) {
            Prepared p = requirePrepared("finalizing");
            if (calibration != null) {
                throw new IllegalStateException("a calibration is open; close it before finalizing");
            }
            return new ModelExport(model, p.engine, inputs(p), p.model::palettized).finalize(format, output, options);
        }
    }

    /** Releases the worker pool and the sensitivity file; prepared models can no longer rebuild dense values. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (state != null) {
                state.close();
            }
        }
    }

    // ---------------------------------------------------------------- steps

    private List<Target> decide() {
        List<Target> targets = new ArrayList<>();
        for (Weight w : model.weights()) {
            WeightDecision d = w.isFloat()
                    ? Objects.requireNonNull(resolver.resolve(w.site()), () -> "resolver returned null for '" + w.name() + "'")
                    : WeightDecision.leave("dtype " + w.dtype() + " is not a float type");
            targets.add(new Target(w, d));
        }
        return targets;
    }

    /** Maps the file's (or folder's) sensitivities of the weights to palettize, normalised per tensor; checks their shapes. */
    private static void loadSensitivities(Prepared p) {
        CheckpointFolder file = p.sensitivityFile;
        for (Target t : p.targets) {
            if (!t.decision().palettized()) {
                continue;
            }
            String name = t.weight().name();
            SafetensorsFile.Entry s = file.tensor(name).orElse(null);
            if (s == null) {
                continue;
            }
            if (!Arrays.equals(s.shape(), t.weight().shape())) {
                throw new ModelFormatException(s.file(), name, "sensitivities have shape "
                        + Arrays.toString(s.shape()) + " but the weight has shape " + Arrays.toString(t.weight().shape()));
            }
            try {
                p.sensitivities.put(name, Sensitivities.normalized(s.floats()));
            } catch (TensorDataException e) {
                throw new ModelFormatException(s.file(), name, e.getMessage(), e);
            }
            p.sensitivityOrigin.put(name, s.file().toString());
        }
    }

    /**
     * Palettizes {@code targets} (all with a spec) with the sensitivities in use, in parallel, and
     * returns the results of every weight: those of {@code targets}, the {@code previous} ones for
     * the other palettized weights, and the resolver's reason for the weights it left alone.
     */
    private List<TensorResult> run(Prepared p, List<Target> targets, Map<String, TensorResult> previous) {
        List<TensorJob> jobs = new ArrayList<>();
        for (Target t : targets) {
            Weight w = t.weight();
            WeightDecision d = t.decision();
            FloatSource sensitivities = p.sensitivities.get(w.name());
            TensorInput in = new TensorInput(w.name(), w.dtype(), w.engineShape(), w.engineView(w.values()),
                    sensitivities == null ? null : w.engineView(sensitivities));
            jobs.add(new TensorJob(in, d.spec(), new ClusterMode(d.fastMode(), d.roundingPrecision())));
        }
        List<Outcome> outcomes = runJobs(p, jobs);
        Map<String, TensorResult> fresh = new HashMap<>();
        for (int i = 0; i < targets.size(); i++) {
            Target t = targets.get(i);
            fresh.put(t.weight().name(), new TensorResult(t.weight(), outcomes.get(i), note(p, t, outcomes.get(i))));
        }
        List<TensorResult> results = new ArrayList<>();
        for (Target t : p.targets) {
            String name = t.weight().name();
            TensorResult r = fresh.getOrDefault(name, previous.get(name));
            results.add(r != null ? r : new TensorResult(t.weight(), null, t.decision().reason()));
        }
        return results;
    }

    private static List<Outcome> runJobs(Prepared p, List<TensorJob> jobs) {
        return switch (p.options.progress()) {
            case ProgressOutput.Listener(Progress listener) -> p.engine.palettizeAll(jobs, listener);
            case ProgressOutput.Console() -> {
                try (TensorProgressBar bar = new TensorProgressBar(jobs.size(), p.options.workers())) {
                    yield p.engine.palettizeAll(jobs, bar);
                }
            }
        };
    }

    private static String note(Prepared p, Target t, Outcome o) {
        if (o instanceof Outcome.Skipped s) {
            return s.reason();
        }
        String origin = p.sensitivityOrigin.get(t.weight().name());
        return t.decision().reason() + (origin == null ? "; unweighted" : "; weighted by " + origin);
    }

    /** The end of a calibration: normalise, remember, recompute the weights that received gradients. */
    private void recalibrate(Map<String, float[]> sums, long steps) {
        synchronized (lock) {
            calibration = null;
            checkOpen();
            Prepared p = state;
            List<Target> targets = new ArrayList<>();
            Map<String, FloatSource> normalized = new HashMap<>();
            for (Target t : p.targets) {
                float[] sum = sums.get(t.weight().name());
                if (sum != null) {
                    normalized.put(t.weight().name(), new FloatArraySource(normalize(t.weight().name(), sum)));
                    targets.add(t);
                }
            }
            p.sensitivities.putAll(normalized);
            normalized.keySet().forEach(name -> p.sensitivityOrigin.put(name, "calibration (" + steps + " steps)"));
            Map<String, TensorResult> previous = p.model.results().stream()
                    .collect(Collectors.toMap(r -> r.weight().name(), r -> r));
            p.model = new PreparedModel(run(p, targets, previous), p.engine::reconstruct);
        }
    }

    private static float[] normalize(String tensor, float[] sumOfSquares) {
        try {
            return Sensitivities.normalize(sumOfSquares);
        } catch (TensorDataException e) {
            throw new TensorDataException("tensor '" + tensor + "': calibration gradients: " + e.getMessage());
        }
    }

    /** Files this palettizer reads, which no output may replace. */
    private List<Path> inputs(Prepared p) {
        List<Path> inputs = new ArrayList<>(model.files());
        if (p.sensitivityFile != null) {
            inputs.addAll(p.sensitivityFile.inputFiles());
        }
        return inputs;
    }

    private Prepared requirePrepared(String what) {
        checkOpen();
        if (state == null) {
            throw new IllegalStateException("the model must be prepared before " + what + "; call prepare() first");
        }
        return state;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this KMeansPalettizer is closed");
        }
    }
}
