package dev.palettizer.api;

import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsSites;
import dev.palettizer.io.SafetensorsWriter.Payload;
import dev.palettizer.model.DType;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.WeightSite;
import dev.palettizer.spec.SpecException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SequencedMap;

/**
 * The weights of a model, by name, as the {@link KMeansPalettizer} sees them: a JVM trainer's own
 * float arrays (not copied, see {@link #builder()}) or the tensors of a safetensors file, mapped and
 * never read into the heap as a whole ({@link #open}). Every weight has a {@link WeightSite} that the
 * spec resolver (a config) decides on; names and shapes give it by {@link SafetensorsSites}.
 * Close a file-backed model to unmap it; its weights are unusable afterwards.
 */
public final class ModelWeights implements AutoCloseable {
    private final List<Weight> weights;
    private final Map<String, Weight> byName;
    private final Map<String, String> metadata;
    private final SafetensorsFile file;

    /**
     * One tensor of the model.
     *
     * @param values its elements as floats in row-major order, or null when its dtype is not a float type
     * @param stored its bytes as stored (little-endian {@code dtype}), for copying it unchanged
     */
    public record Weight(WeightSite site, DType dtype, FloatSource values, Payload stored) {
        public Weight {
            Objects.requireNonNull(site, "site");
            Objects.requireNonNull(dtype, "dtype");
            Objects.requireNonNull(stored, "stored");
        }

        public String name() {
            return site.tensorName();
        }

        public long[] shape() {
            return site.shape();
        }

        public long elementCount() {
            return stored.byteSize() / dtype.byteSize();
        }

        /** Whether the elements can be read as floats (and so palettized): F32, F16, BF16. */
        public boolean isFloat() {
            return values != null;
        }

        /**
         * The elements as a new float array, row-major.
         *
         * @throws IllegalArgumentException if the dtype is not a float type or the tensor exceeds a Java array
         */
        public float[] toFloatArray() {
            if (values == null) {
                throw new IllegalArgumentException("tensor '" + name() + "' has dtype " + dtype
                        + ", which cannot be read as floats");
            }
            if (elementCount() > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("tensor '" + name() + "' has " + elementCount()
                        + " elements, more than one Java array holds; read it through values() instead");
            }
            float[] out = new float[(int) elementCount()];
            values.read(0, out, 0, out.length);
            return out;
        }
    }

    private ModelWeights(List<Weight> weights, Map<String, String> metadata, SafetensorsFile file) {
        this.weights = List.copyOf(weights);
        this.byName = new LinkedHashMap<>();
        for (Weight w : weights) {
            if (byName.put(w.name(), w) != null) {
                throw new IllegalArgumentException("duplicate tensor name '" + w.name() + "'");
            }
        }
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        this.file = file;
    }

    /** A model over a trainer's float arrays, added one by one; the arrays are referenced, not copied. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Maps a safetensors file read-only; each tensor's site comes from {@link SafetensorsSites}.
     *
     * @throws ModelFormatException if the file is not well-formed safetensors
     */
    public static ModelWeights open(Path safetensors) throws IOException {
        SafetensorsFile f = SafetensorsFile.open(safetensors);
        try {
            List<Weight> weights = new ArrayList<>();
            SequencedMap<String, WeightSite> sites = SafetensorsSites.of(f.tensors());
            for (SafetensorsFile.Entry e : f.tensors()) {
                FloatSource values = e.dtype().isPalettizable() ? e.floats() : null;
                weights.add(new Weight(sites.get(e.name()), e.dtype(), values, Payload.of(e.data())));
            }
            return new ModelWeights(weights, f.metadata(), f);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** Every weight, in the order added (or of the file's header). */
    public List<Weight> weights() {
        return weights;
    }

    public Optional<Weight> weight(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The file's {@code __metadata__}; empty for array-backed models. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The mapped file behind the weights, if any. */
    public Optional<Path> file() {
        return file == null ? Optional.empty() : Optional.of(file.path());
    }

    /** Unmaps a file-backed model; closing again, or closing an array-backed model, does nothing. */
    @Override
    public void close() {
        if (file != null) {
            file.close();
        }
    }

    /** Collects a trainer's arrays; names must be unique and each array must hold its shape's elements. */
    public static final class Builder {
        /** A weight as added: its site is null until {@link #build} derives it from all names and shapes. */
        private record Added(String name, long[] shape, float[] values, WeightSite site) {}

        private final List<Added> added = new ArrayList<>();

        private Builder() {}

        /**
         * Adds {@code values} (F32, row-major) under {@code name}; its site is derived from the names
         * and shapes of all weights as for a safetensors file (a bias belongs to its module's op).
         */
        public Builder add(String name, float[] values, long... shape) {
            return add(Objects.requireNonNull(name, "name"), shape, values, null);
        }

        /** Adds {@code values} (F32, row-major) with an explicit site, e.g. an embedding's. */
        public Builder add(WeightSite site, float[] values) {
            return add(site.tensorName(), site.shape(), values, site);
        }

        private Builder add(String name, long[] shape, float[] values, WeightSite site) {
            Objects.requireNonNull(values, "values");
            long n = 1;
            for (long d : shape) {
                if (d < 0) {
                    throw new SpecException("tensor '" + name + "': shape " + Arrays.toString(shape)
                            + " has a negative dimension");
                }
                n = Math.multiplyExact(n, d);
            }
            if (n != values.length) {
                throw new SpecException("tensor '" + name + "': shape " + Arrays.toString(shape)
                        + " needs " + n + " values but the array holds " + values.length);
            }
            added.add(new Added(name, shape.clone(), values, site));
            return this;
        }

        /**
         * The model.
         *
         * @throws IllegalArgumentException if two weights share a name
         */
        public ModelWeights build() {
            SequencedMap<String, long[]> shapes = new LinkedHashMap<>();
            for (Added a : added) {
                if (shapes.put(a.name(), a.shape()) != null) {
                    throw new IllegalArgumentException("duplicate tensor name '" + a.name() + "'");
                }
            }
            SequencedMap<String, WeightSite> sites = SafetensorsSites.of(shapes);
            List<Weight> weights = new ArrayList<>();
            for (Added a : added) {
                WeightSite site = a.site() != null ? a.site() : sites.get(a.name());
                weights.add(new Weight(site, DType.F32, new FloatArraySource(a.values()), Payload.ofFloats(a.values())));
            }
            return new ModelWeights(weights, Map.of(), null);
        }
    }
}
