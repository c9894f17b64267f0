package dev.palettizer.api;

import dev.palettizer.io.CheckpointFolder;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.io.OnnxCompressedFormat;
import dev.palettizer.io.OnnxInitializer;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.io.SafetensorsFile;
import dev.palettizer.io.SafetensorsSites;
import dev.palettizer.io.SafetensorsWriter.Payload;
import dev.palettizer.model.DType;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.Shapes;
import dev.palettizer.model.TransposedSource;
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
 * float arrays (not copied, see {@link #builder()}), the tensors of a safetensors file or the
 * initializers of an ONNX model, both mapped and never read into the heap as a whole ({@link #open}).
 * Every weight has a {@link WeightSite} that the spec resolver (a config) decides on: from names and
 * shapes by {@link SafetensorsSites}, or from the graph's consuming nodes for ONNX. Close a
 * file-backed model to unmap it; its weights are unusable afterwards.
 */
public final class ModelWeights implements AutoCloseable {
    private final List<Weight> weights;
    private final Map<String, Weight> byName;
    private final Map<String, String> metadata;
    private final Path path;
    private final List<Path> files;
    private final OnnxModel onnx;
    /** Unmaps the file(s); null for arrays. */
    private final Runnable unmap;

    /**
     * One tensor of the model, in the orientation it is stored in.
     *
     * @param values its elements as floats in row-major order, or null when its dtype is not a float type
     * @param stored its bytes as stored (little-endian {@code dtype}), for copying it unchanged
     * @param transposed whether the engine clusters the transpose of this 2-D [in, out] matrix (an ONNX
     *     MatMul weight), so that axis 0 is the output channels as for a PyTorch Linear weight; its
     *     {@link PreparedModel#palettized() palettized tensor} then has the transposed shape
     */
    public record Weight(WeightSite site, DType dtype, FloatSource values, Payload stored, boolean transposed) {
        public Weight {
            Objects.requireNonNull(site, "site");
            Objects.requireNonNull(dtype, "dtype");
            Objects.requireNonNull(stored, "stored");
            if (transposed && site.shape().length != 2) {
                throw new IllegalArgumentException("tensor '" + site.tensorName() + "': only 2-D weights can be"
                        + " clustered transposed, got shape " + Arrays.toString(site.shape()));
            }
        }

        /** A weight the engine clusters as stored. */
        public Weight(WeightSite site, DType dtype, FloatSource values, Payload stored) {
            this(site, dtype, values, stored, false);
        }

        public String name() {
            return site.tensorName();
        }

        public long[] shape() {
            return site.shape();
        }

        public long elementCount() {
            return Shapes.elementCount(site.shape());
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

        /** The shape the engine clusters: the stored one, or its transpose. */
        long[] engineShape() {
            long[] s = shape();
            return transposed ? new long[] {s[1], s[0]} : s;
        }

        /** {@code storedOrder} (these values, or per-element sensitivities) in the engine's orientation. */
        FloatSource engineView(FloatSource storedOrder) {
            long[] s = shape();
            return transposed ? new TransposedSource(storedOrder, s[0], s[1]) : storedOrder;
        }

        /** Values in the engine's orientation back in the stored one. */
        float[] storedOrder(float[] engineOrder) {
            if (!transposed) {
                return engineOrder;
            }
            long[] engine = engineShape();
            float[] out = new float[engineOrder.length];
            new TransposedSource(new FloatArraySource(engineOrder), engine[0], engine[1]).read(0, out, 0, out.length);
            return out;
        }
    }

    private ModelWeights(List<Weight> weights, Map<String, String> metadata, Path path, List<Path> files,
                         OnnxModel onnx, Runnable unmap) {
        this.weights = List.copyOf(weights);
        this.byName = new LinkedHashMap<>();
        for (Weight w : weights) {
            if (byName.put(w.name(), w) != null) {
                throw new IllegalArgumentException("duplicate tensor name '" + w.name() + "'");
            }
        }
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        this.path = path;
        this.files = List.copyOf(files);
        this.onnx = onnx;
        this.unmap = unmap;
    }

    /** A model over a trainer's float arrays, added one by one; the arrays are referenced, not copied. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Maps a model file read-only: an ONNX model when its name ends in {@code .onnx} (external data
     * too), else a safetensors file. Sites come from {@link SafetensorsSites}, or for ONNX from the
     * nodes that consume each initializer (see the README's ONNX section); ONNX initializers whose type
     * has no safetensors dtype (strings, complex, 4- and 2-bit types) are not listed, and an ONNX
     * export copies them unchanged.
     *
     * A checkpoint folder (Hugging Face shards and index, or the index file) opens as one model:
     * every shard's tensors, sites derived across all shards, the metadata the shards share.
     *
     * @throws ModelFormatException if the file is malformed, or is an ONNX model palettized already
     */
    public static ModelWeights open(Path file) throws IOException {
        if (CheckpointFolder.isFolder(file)) {
            return openFolder(file);
        }
        return OnnxModel.hasOnnxName(file) ? openOnnx(file) : openSafetensors(file);
    }

    private static ModelWeights openSafetensors(Path safetensors) throws IOException {
        SafetensorsFile f = SafetensorsFile.open(safetensors);
        try {
            return new ModelWeights(weightsOf(f.tensors()), f.metadata(), f.path(), List.of(f.path()), null, f::close);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private static ModelWeights openFolder(Path folder) throws IOException {
        CheckpointFolder f = CheckpointFolder.open(folder);
        try {
            return new ModelWeights(weightsOf(f.tensors()), f.sharedMetadata(), f.dir(), f.inputFiles(), null, f::close);
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private static List<Weight> weightsOf(List<SafetensorsFile.Entry> tensors) {
        List<Weight> weights = new ArrayList<>();
        SequencedMap<String, WeightSite> sites = SafetensorsSites.of(tensors);
        for (SafetensorsFile.Entry e : tensors) {
            FloatSource values = e.dtype().isPalettizable() ? e.floats() : null;
            weights.add(new Weight(sites.get(e.name()), e.dtype(), values, Payload.of(e.data())));
        }
        return weights;
    }

    private static ModelWeights openOnnx(Path file) throws IOException {
        OnnxModel m = OnnxModel.open(file);
        try {
            if (OnnxCompressedFormat.isCompressed(m)) {
                throw new ModelFormatException(file, "already holds palettized weights (metadata_props"
                        + " palettizer.format); decompress it first (palettizer decompress)");
            }
            List<Weight> weights = new ArrayList<>();
            for (OnnxInitializer t : m.initializers()) {
                if (t.type().dtype() != null) {
                    FloatSource values = t.type().isPalettizable() ? t.floats() : null;
                    weights.add(new Weight(t.site(), t.type().dtype(), values, t.stored(), t.transposed()));
                }
            }
            List<Path> files = new ArrayList<>(m.externalFiles());
            files.addFirst(m.path());
            return new ModelWeights(weights, m.metadata(), m.path(), files, m, m::close);
        } catch (RuntimeException e) {
            m.close();
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

    /** The safetensors file's {@code __metadata__} or the ONNX model's metadata_props; empty for array-backed models. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The mapped file (or checkpoint folder) behind the weights, if any. */
    public Optional<Path> file() {
        return Optional.ofNullable(path);
    }

    /** Every file the weights are mapped from (an ONNX model's external data too), which no output may replace. */
    List<Path> files() {
        return files;
    }

    /** The ONNX model behind the weights, for writing it back; empty for safetensors and arrays. */
    Optional<OnnxModel> onnx() {
        return Optional.ofNullable(onnx);
    }

    /** Unmaps a file-backed model; closing again, or closing an array-backed model, does nothing. */
    @Override
    public void close() {
        if (unmap != null) {
            unmap.run();
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
            if (Arrays.stream(shape).anyMatch(d -> d < 0)) {
                throw new SpecException("tensor '" + name + "': shape " + Arrays.toString(shape)
                        + " has a negative dimension");
            }
            long n = Shapes.elementCount(shape);
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
            return new ModelWeights(weights, Map.of(), null, List.of(), null, null);
        }
    }
}
