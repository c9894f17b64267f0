package dev.palettizer.api;

import dev.palettizer.api.ModelWeights.Weight;
import dev.palettizer.backend.Backend;
import dev.palettizer.backend.BackendRegistry;
import dev.palettizer.backend.DkmPasses;
import dev.palettizer.backend.JavaBackend;
import dev.palettizer.backend.JavaDkmPasses;
import dev.palettizer.config.dkm.DKMPalettizerConfig;
import dev.palettizer.config.dkm.DkmResolution;
import dev.palettizer.dkm.DkmStats;
import dev.palettizer.dkm.DkmWeight;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.DkmSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Training-time palettization by differentiable k-means (seed 004's {@code DKMPalettizer}) for JVM
 * trainers. {@link #prepare} decides per weight from the config; then, per training step, the trainer
 * calls {@link #forward} for each weight (the soft-palettized weight, written into an array it owns),
 * runs its own forward and backward passes with those, hands the gradient with respect to the
 * palettized weight to {@link #backward} (which writes the gradient with respect to the original
 * weight, exact reverse mode through every k-means iteration: see {@link DkmWeight}), updates its
 * weights and calls {@link #step}. Palettization of a weight starts once {@link #steps()} reaches its
 * milestone; before that forward and backward copy their input (the identity). {@link #finalize} writes
 * the hard LUTs and indices in the formats of {@link KMeansPalettizer}.
 *
 * <pre>{@code
 * try (DKMPalettizer dkm = new DKMPalettizer(model, DkmConfigFiles.load(Path.of("dkm.yaml")))) {
 *     dkm.prepare();
 *     for (Batch b : data) {
 *         dkm.forward("fc1.weight", w, wHat);          // the layer computes with wHat
 *         ... trainer forward and backward ...
 *         dkm.backward("fc1.weight", gradWHat, gradW);  // the optimizer applies gradW to w
 *         dkm.step();
 *     }
 *     dkm.finalize(ExportFormat.COMPRESSED_SAFETENSORS, Path.of("model.pal.safetensors")).close();
 * }
 * }</pre>
 *
 * <p><b>Concurrency.</b> forward and backward of different weights may run concurrently; calls for one
 * weight are serialised (a weight's backward must follow its forward). {@link #step}, {@link #steps} and
 * {@link #report} may be called from any thread. prepare, finalize and close are exclusive: they wait for
 * calls in flight. The array given to forward is kept, not copied, until the weight's next forward: the
 * trainer's update of it in place is what finalize palettizes; it must not change between a forward and its
 * backward.
 *
 * <p>The per-element passes run on {@link DkmOptions#backend()}'s {@link Backend#dkmPasses()} ({@link JavaDkmPasses} on java); {@code palett_max_mem}
 * bounds accelerator memory, which the Java passes do not use (their working memory is O(k x iterations)
 * per partition, plus 65,536-entry tables for fp16/bf16-valued weights).
 */
public final class DKMPalettizer implements AutoCloseable {
    private final ModelWeights model;
    private final DKMPalettizerConfig config;
    private final DkmOptions options;
    private final AtomicLong steps = new AtomicLong();
    private final Object lock = new Object();
    private Map<String, Slot> slots;
    private ForkJoinPool pool;
    /** Owns the DKM passes (Backend#dkmPasses); chosen at prepare. */
    private Backend passesBackend;
    private boolean closed;

    /** One weight: what the config decided and, when palettized, its DKM state. Guarded by itself. */
    private static final class Slot {
        final Weight weight;
        final DkmResolution resolution;
        final DkmWeight dkm;
        /** The trainer's array of the last forward (not a copy), for backward's check and finalize. */
        float[] lastWeights;
        boolean forwarded;
        /** Whether the last forward palettized (then backward goes through DKM, else it is the identity). */
        boolean forwardPalettized;

        Slot(Weight weight, DkmResolution resolution, DkmWeight dkm) {
            this.weight = weight;
            this.resolution = resolution;
            this.dkm = dkm;
        }

        int milestone() {
            return resolution instanceof DkmResolution.Palettize p ? p.milestone() : Integer.MAX_VALUE;
        }
    }

    public DKMPalettizer(ModelWeights model, DKMPalettizerConfig config) {
        this(model, config, DkmOptions.defaults());
    }

    /**
     * @param model the weights (trainer arrays, a safetensors file or an ONNX model); must stay open
     * @param config which weights DKM palettizes, and how
     */
    public DKMPalettizer(ModelWeights model, DKMPalettizerConfig config, DkmOptions options) {
        this.model = Objects.requireNonNull(model, "model");
        this.config = Objects.requireNonNull(config, "config");
        this.options = Objects.requireNonNull(options, "options");
    }

    /**
     * Resolves every weight against the config and sets up DKM for those it palettizes (centroids are
     * initialised by k-means at each weight's first palettized forward). Returns the palettized weights' names.
     *
     * @throws IllegalStateException if already prepared
     * @throws dev.palettizer.spec.SpecException if a weight's spec cannot apply to its shape (the message names it)
     */
    public List<String> prepare() {
        synchronized (lock) {
            checkOpen();
            if (slots != null) {
                throw new IllegalStateException("the model has already been prepared; a DKMPalettizer prepares once");
            }
            ForkJoinPool workers = new ForkJoinPool(options.workers());
            Backend b = null;
            Map<String, Slot> s = new LinkedHashMap<>();
            List<String> palettized = new ArrayList<>();
            try {
                BackendRegistry registry = BackendRegistry.discover();
                b = registry.create(registry.choose(options.backend(), null), workers);
                DkmPasses p = b.dkmPasses();
                for (Weight w : model.weights()) {
                    DkmResolution r = w.isFloat() ? config.resolve(w.site(), options.seed())
                            : new DkmResolution.Leave("dtype " + w.dtype() + " is not a float type");
                    DkmWeight dkm = null;
                    if (r instanceof DkmResolution.Palettize pal) {
                        if (w.elementCount() > Integer.MAX_VALUE - 8) {
                            throw new IllegalArgumentException("weight '" + w.name() + "' has " + w.elementCount()
                                    + " elements, more than one Java array holds; use DkmWeight's MemorySegment passes");
                        }
                        dkm = new DkmWeight(w.name(), w.shape(), pal.spec(), p);
                        palettized.add(w.name());
                    }
                    s.put(w.name(), new Slot(w, r, dkm));
                }
            } catch (RuntimeException e) {
                if (b != null) {
                    b.close();
                }
                workers.close();
                throw e;
            }
            passesBackend = b;
            pool = workers;
            slots = s;
            return List.copyOf(palettized);
        }
    }

    /** Counts a training step; a weight is palettized from the step its milestone names on. */
    public void step() {
        steps.incrementAndGet();
    }

    /** Steps counted so far. */
    public long steps() {
        return steps.get();
    }

    /** Whether forward palettizes {@code name} now (false for weights the config leaves alone). */
    public boolean active(String name) {
        Slot s = slot(name);
        return s.dkm != null && steps.get() >= s.milestone();
    }

    /**
     * Writes the weight as the layer should use it into {@code out}: soft-palettized once active, else a copy.
     *
     * @throws IllegalArgumentException for an unknown name or a length other than the weight's (both named)
     */
    public void forward(String name, float[] w, float[] out) {
        Slot s = slot(name);
        checkLength(s, "weight", w.length);
        checkLength(s, "output", out.length);
        synchronized (s) {
            boolean palettize = active(s);
            if (palettize) {
                s.dkm.forward(w, out);
            } else {
                System.arraycopy(w, 0, out, 0, w.length);
            }
            s.lastWeights = w;
            s.forwarded = true;
            s.forwardPalettized = palettize;
        }
    }

    /**
     * Writes the gradient with respect to the original weight, given the gradient with respect to what
     * forward wrote. A failed call (NaN gradient, wrong length) changes no state: the next correct step works.
     *
     * @throws IllegalArgumentException for an unknown name, a wrong length or a NaN/infinite gradient (named)
     * @throws IllegalStateException if the weight has had no forward in this palettizer
     */
    public void backward(String name, float[] gradOut, float[] gradIn) {
        Slot s = slot(name);
        checkLength(s, "gradient", gradOut.length);
        checkLength(s, "gradient output", gradIn.length);
        synchronized (s) {
            if (!s.forwarded) {
                throw new IllegalStateException("weight '" + name + "': backward before forward; call forward first in each step");
            }
            if (s.forwardPalettized) {
                s.dkm.backward(gradOut, gradIn);
                return;
            }
            for (int i = 0; i < gradOut.length; i++) {
                if (!Float.isFinite(gradOut[i])) {
                    throw new IllegalArgumentException("weight '" + name + "': gradient element " + i + " is " + gradOut[i]);
                }
            }
            System.arraycopy(gradOut, 0, gradIn, 0, gradOut.length);
        }
    }

    /**
     * Writes the weight as finalize will store it into {@code out}: each element its nearest centroid
     * under the current LUTs (for evaluating the hard model during training); a copy for weights DKM
     * leaves alone or has not palettized yet.
     */
    public void harden(String name, float[] w, float[] out) {
        Slot s = slot(name);
        checkLength(s, "weight", w.length);
        checkLength(s, "output", out.length);
        synchronized (s) {
            if (s.dkm == null || s.dkm.lut().length == 0) {
                System.arraycopy(w, 0, out, 0, w.length);
            } else {
                DkmHardening.decode(s.dkm, w, out);
            }
        }
    }

    /** Per weight, in model order: the seed's report (clusters, cluster_dim, parameters, ...). */
    public Map<String, DkmModuleReport> report() {
        Map<String, DkmModuleReport> out = new LinkedHashMap<>();
        for (Slot s : prepared().values()) {
            Weight w = s.weight;
            if (s.dkm == null) {
                out.put(w.name(), new DkmModuleReport(w.name(), false, s.resolution.rule(), 0, 0, 0, w.elementCount(), 0,
                        0, false, "", List.of(), List.of()));
                continue;
            }
            DkmSpec d = s.dkm.spec();
            DkmStats st;
            synchronized (s) {
                st = s.dkm.stats();
            }
            out.put(w.name(), new DkmModuleReport(w.name(), true, s.resolution.rule(), d.nBits(), d.lutSize(), d.clusterDim(),
                    w.elementCount(), s.dkm.layout().partitions(), s.milestone(), active(s), st.step() == 0 ? "" : st.route(),
                    Arrays.stream(st.iterations()).boxed().toList(), Arrays.stream(st.distinctCentroids()).boxed().toList()));
        }
        return out;
    }

    /** {@link #finalize(ExportFormat, Path, FinalizeOptions)} without a mmap folder. */
    public FinalizedModel finalize(ExportFormat format, Path output) throws IOException {
        return finalize(format, output, FinalizeOptions.defaults());
    }

    /**
     * Writes the model with each palettized weight replaced by its hard LUT(s) and nearest-centroid
     * indices under the current centroids (a weight never palettized yet is initialised first), in
     * {@code format}, atomically, as {@link KMeansPalettizer#finalize(ExportFormat, Path, FinalizeOptions)}
     * does. The weights are those of each weight's last forward (the trainer's array), else the model's.
     */
    public FinalizedModel finalize(ExportFormat format, Path output, FinalizeOptions options) throws IOException {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(options, "options");
        synchronized (lock) {
            Map<String, Slot> s = prepared();
            JavaBackend packer = new JavaBackend(pool);
            Map<String, PalettizedTensor> hard = new LinkedHashMap<>();
            for (Slot slot : s.values()) {
                if (slot.dkm == null) {
                    continue;
                }
                synchronized (slot) {
                    float[] values = slot.lastWeights != null ? slot.lastWeights : slot.weight.toFloatArray();
                    if (slot.dkm.lut().length == 0) {
                        slot.dkm.forward(values, new float[values.length]);
                    }
                    hard.put(slot.weight.name(), DkmHardening.harden(slot.weight, slot.dkm, values, packer));
                }
            }
            try (Palettizer engine = Palettizer.builder().workers(this.options.workers()).backend("java").build()) {
                return new ModelExport(model, engine, model.files(), name -> Optional.ofNullable(hard.get(name)))
                        .finalize(format, output, options);
            }
        }
    }

    /** Releases the worker threads; the model stays open (it is the caller's). */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (passesBackend != null) {
                passesBackend.close();
                pool.close();
            }
        }
    }

    private boolean active(Slot s) {
        return s.dkm != null && steps.get() >= s.milestone();
    }

    private Map<String, Slot> prepared() {
        synchronized (lock) {
            checkOpen();
            if (slots == null) {
                throw new IllegalStateException("the model must be prepared first; call prepare()");
            }
            return slots;
        }
    }

    private Slot slot(String name) {
        Slot s = prepared().get(name);
        if (s == null) {
            throw new IllegalArgumentException("no weight named '" + name + "' in the model; it has " + prepared().keySet());
        }
        return s;
    }

    private static void checkLength(Slot s, String what, int length) {
        if (length != s.weight.elementCount()) {
            throw new IllegalArgumentException("weight '" + s.weight.name() + "': " + what + " has " + length
                    + " elements, the weight has " + s.weight.elementCount() + " " + Arrays.toString(s.weight.shape()));
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this DKMPalettizer is closed");
        }
    }
}
