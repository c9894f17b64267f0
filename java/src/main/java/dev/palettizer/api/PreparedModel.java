package dev.palettizer.api;

import dev.palettizer.api.ModelWeights.Weight;
import dev.palettizer.engine.Outcome;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.model.PalettizedTensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A model as {@link KMeansPalettizer#prepare} (or a calibration) left it: the compressed tensors, and
 * each weight's dense values with the palettized ones rebuilt from their LUTs, ready for evaluation.
 * Immutable; rebuilding dense values needs the palettizer that made it to be open.
 */
public final class PreparedModel {
    private final List<TensorResult> results;
    private final Map<String, TensorResult> byName = new LinkedHashMap<>();
    private final Map<String, PalettizedTensor> palettized = new LinkedHashMap<>();
    private final Map<String, String> skipped = new LinkedHashMap<>();
    private final Function<PalettizedTensor, float[]> reconstruct;

    /**
     * What became of one weight: palettized ({@code outcome} a {@link Outcome.Palettized}), skipped by
     * the engine because its spec does not fit the shape ({@link Outcome.Skipped}), or left alone by
     * the resolver ({@code outcome} null). {@code note} says why, and which sensitivities were used.
     */
    record TensorResult(Weight weight, Outcome outcome, String note) {}

    PreparedModel(List<TensorResult> results, Function<PalettizedTensor, float[]> reconstruct) {
        this.results = List.copyOf(results);
        this.reconstruct = reconstruct;
        for (TensorResult r : results) {
            byName.put(r.weight().name(), r);
            switch (r.outcome()) {
                case Outcome.Palettized p -> palettized.put(p.name(), p.tensor());
                case Outcome.Skipped s -> skipped.put(s.name(), s.reason());
                case null -> { }
            }
        }
    }

    List<TensorResult> results() {
        return results;
    }

    /** The compressed tensors, in model order, in the engine's orientation (see {@link ModelWeights.Weight#transposed()}). */
    public Map<String, PalettizedTensor> palettized() {
        return Collections.unmodifiableMap(palettized);
    }

    public Optional<PalettizedTensor> palettized(String name) {
        return Optional.ofNullable(palettized.get(name));
    }

    /** Weights the resolver gave a spec that does not fit their shape (group size, cluster_dim), with the reason; left as they are. */
    public Map<String, String> skipped() {
        return Collections.unmodifiableMap(skipped);
    }

    /** One line per weight, in model order: palettized or not, why, bits, bytes and error. */
    public List<TensorReport> report() {
        return results.stream().map(PreparedModel::reportLine).toList();
    }

    /**
     * The weight's dense values, row-major: rebuilt from the LUT when palettized, else a copy of the
     * original. A fresh array on every call.
     *
     * @throws IllegalArgumentException if there is no float weight of that name
     */
    public float[] weights(String name) {
        TensorResult r = byName.get(name);
        if (r == null) {
            throw new IllegalArgumentException("no tensor named '" + name + "' in the model");
        }
        return dense(r);
    }

    /** {@link #weights(String)} of every float weight, in model order. */
    public Map<String, float[]> denseWeights() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (TensorResult r : results) {
            if (r.weight().isFloat()) {
                out.put(r.weight().name(), dense(r));
            }
        }
        return out;
    }

    private float[] dense(TensorResult r) {
        if (r.outcome() instanceof Outcome.Palettized p) {
            return r.weight().storedOrder(reconstruct.apply(p.tensor()));
        }
        return r.weight().toFloatArray();
    }

    private static TensorReport reportLine(TensorResult r) {
        Weight w = r.weight();
        long bytes = w.stored().byteSize();
        String dtype = w.dtype().name();
        if (r.outcome() instanceof Outcome.Palettized(PalettizedTensor t, double seconds, String warning)) {
            return new TensorReport(w.name(), w.shape(), dtype, true, r.note(), t.spec().nBits(), w.elementCount(),
                    bytes, t.compressedBytes(), t.error().snrDb(), t.error().sse(), t.error().weightedSse(), seconds,
                    warning);
        }
        return new TensorReport(w.name(), w.shape(), dtype, false, r.note(), 0, w.elementCount(), bytes, bytes,
                Double.NaN, Double.NaN, Double.NaN, 0);
    }

    @Override
    public String toString() {
        return "PreparedModel: " + palettized.size() + " palettized, " + skipped.size() + " skipped, of "
                + results.size() + " weights";
    }
}
