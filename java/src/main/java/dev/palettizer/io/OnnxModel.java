package dev.palettizer.io;

import dev.palettizer.model.Shapes;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An ONNX model mapped read-only: the protobuf is parsed with aliasing, so raw_data fields are
 * views of the mapping, and external data files (data_location EXTERNAL, {@code location} relative
 * to the model's folder, {@code offset}, {@code length}) are mapped once each. No tensor data is
 * copied to the heap. Every initializer is validated up front; its segments stay valid until
 * {@link #close()}.
 */
public final class OnnxModel implements AutoCloseable {
    /** The ONNX operator set of standard operators ("" and "ai.onnx" name the same one). */
    static final String DEFAULT_DOMAIN = "";

    private final Path path;
    private final Arena arena;
    private final ModelProto proto;
    private final List<OnnxInitializer> initializers;
    private final Map<String, OnnxInitializer> byName;
    private final List<Path> externalFiles;
    private final AtomicBoolean closed = new AtomicBoolean();

    private OnnxModel(Path path, Arena arena, ModelProto proto, List<OnnxInitializer> initializers, List<Path> externalFiles) {
        this.path = path;
        this.arena = arena;
        this.proto = proto;
        this.initializers = List.copyOf(initializers);
        Map<String, OnnxInitializer> names = new LinkedHashMap<>();
        initializers.forEach(t -> names.put(t.name(), t));
        this.byName = Collections.unmodifiableMap(names);
        this.externalFiles = List.copyOf(externalFiles);
    }

    /**
     * Maps, parses and validates {@code path} and the external data files it names.
     *
     * @throws ModelFormatException if the file is not a well-formed ONNX model or its data is missing
     * @throws IOException if a file cannot be opened or mapped
     */
    public static OnnxModel open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment file = map(path, arena);
            if (file.byteSize() > Integer.MAX_VALUE) {
                throw new ModelFormatException(path, "file is " + file.byteSize() + " bytes; an ONNX protobuf holds at"
                        + " most 2 GiB (larger models keep their weights in external data files)");
            }
            ModelProto proto = parse(path, file);
            OnnxModel model = new Reader(path, arena, proto).read();
            arena = null;
            return model;
        } finally {
            if (arena != null) {
                arena.close();
            }
        }
    }

    /**
     * The same as {@link #open} on bytes in memory, named {@code path} (whose folder holds any external
     * data): for the fuzz target, which would otherwise spend its time mapping and unmapping files.
     */
    static OnnxModel parse(Path path, byte[] bytes) throws IOException {
        Arena arena = Arena.ofConfined();
        try {
            MemorySegment file = arena.allocate(Math.max(1, bytes.length)).asSlice(0, bytes.length);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, file, 0, bytes.length);
            OnnxModel model = new Reader(path, arena, parse(path, file.asReadOnly())).read();
            arena = null;
            return model;
        } finally {
            if (arena != null) {
                arena.close();
            }
        }
    }

    private static MemorySegment map(Path file, Arena arena) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
        }
    }

    /** Parses with aliasing: bytes fields become views of the mapping instead of heap copies. */
    private static ModelProto parse(Path path, MemorySegment file) {
        ByteString whole = UnsafeByteOperations.unsafeWrap(file.asByteBuffer());
        CodedInputStream in = whole.newCodedInput();
        in.enableAliasing(true);
        try {
            ModelProto proto = ModelProto.parseFrom(in);
            if (!proto.hasGraph()) {
                throw new ModelFormatException(path, "field graph: missing; not an ONNX model");
            }
            return proto;
        } catch (IOException e) {
            // Reading a mapping only fails on malformed content (InvalidProtocolBufferException).
            throw new ModelFormatException(path, "not a valid ONNX protobuf (truncated or not ONNX): " + e.getMessage(), e);
        }
    }

    /** Whether {@code file} is named as an ONNX model ({@code .onnx}, any case); other model files are safetensors. */
    public static boolean hasOnnxName(Path file) {
        return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
    }

    public Path path() {
        return path;
    }

    public List<OnnxInitializer> initializers() {
        return initializers;
    }

    public Optional<OnnxInitializer> initializer(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The model's operator set version for the standard domain, or 0 when it imports none. */
    public long opset() {
        return opsetOf(proto);
    }

    static long opsetOf(ModelProto proto) {
        return proto.getOpsetImportList().stream()
                .filter(o -> o.getDomain().equals(DEFAULT_DOMAIN) || o.getDomain().equals("ai.onnx"))
                .mapToLong(OperatorSetIdProto::getVersion).max().orElse(0);
    }

    public long irVersion() {
        return proto.getIrVersion();
    }

    /** Whether any initializer keeps its data in an external file. */
    public boolean usesExternalData() {
        return !externalFiles.isEmpty();
    }

    /** The external data files the model reads, so writers never overwrite them. */
    public List<Path> externalFiles() {
        return externalFiles;
    }

    /** The model's metadata_props. */
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        for (StringStringEntryProto e : proto.getMetadataPropsList()) {
            m.put(e.getKey(), e.getValue());
        }
        return m;
    }

    ModelProto proto() {
        return proto;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            arena.close();
        }
    }

    /** Validates the initializers and maps their external files. */
    private static final class Reader {
        private final Path path;
        private final Arena arena;
        private final ModelProto proto;
        private final Map<Path, MemorySegment> mapped = new HashMap<>();

        Reader(Path path, Arena arena, ModelProto proto) {
            this.path = path;
            this.arena = arena;
            this.proto = proto;
        }

        OnnxModel read() throws IOException {
            GraphProto graph = proto.getGraph();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            for (TensorProto t : graph.getInitializerList()) {
                if (shapes.put(t.getName(), shape(t)) != null) {
                    throw new ModelFormatException(path, t.getName(), "field graph.initializer: name used twice");
                }
            }
            Map<String, OnnxSites.Placement> places = OnnxSites.describe(graph, shapes);
            List<OnnxInitializer> tensors = new ArrayList<>();
            for (TensorProto t : graph.getInitializerList()) {
                tensors.add(tensor(t, shapes.get(t.getName()), places.get(t.getName())));
            }
            return new OnnxModel(path, arena, proto, tensors, new ArrayList<>(mapped.keySet()));
        }

        private long[] shape(TensorProto t) {
            long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
            if (Arrays.stream(dims).anyMatch(d -> d < 0)) {
                throw new ModelFormatException(path, t.getName(), "field dims: " + Arrays.toString(dims)
                        + " has a negative dimension");
            }
            try {
                Shapes.elementCount(dims);
            } catch (ArithmeticException e) {
                throw new ModelFormatException(path, t.getName(), "field dims: " + Arrays.toString(dims)
                        + " has too many elements");
            }
            return dims;
        }

        private OnnxInitializer tensor(TensorProto t, long[] shape, OnnxSites.Placement place) throws IOException {
            String name = t.getName();
            OnnxType type = OnnxType.of(t.getDataType()).orElseThrow(() -> new ModelFormatException(path, name,
                    "field data_type: " + t.getDataType() + " is not an ONNX tensor type this reader knows (1-26)"));
            long count = Shapes.elementCount(shape);
            if (type.fixedSize() && count > type.maxElements()) {
                throw new ModelFormatException(path, name, "field dims: " + Arrays.toString(shape) + " of " + type
                        + " would take over 2^63 bytes");
            }
            boolean external = t.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
            MemorySegment bytes = null;
            if (external) {
                bytes = externalData(t, type, count);
            } else if (t.hasRawData()) {
                bytes = MemorySegment.ofBuffer(t.getRawData().asReadOnlyByteBuffer());
                if (type.fixedSize() && bytes.byteSize() != type.rawBytes(count)) {
                    throw new ModelFormatException(path, name, "field raw_data: holds " + bytes.byteSize() + " bytes but dims "
                            + Arrays.toString(shape) + " of " + type + " need " + type.rawBytes(count));
                }
            } else if (type.isPalettizable()) {
                int held = type == OnnxType.FLOAT ? t.getFloatDataCount() : t.getInt32DataCount();
                if (held != count) {
                    throw new ModelFormatException(path, name, "field " + (type == OnnxType.FLOAT ? "float_data" : "int32_data")
                            + ": holds " + held + " values but dims " + Arrays.toString(shape) + " need " + count);
                }
            }
            return new OnnxInitializer(name, type, shape, t, bytes, external, place.site(), place.transposed(), path);
        }

        private MemorySegment externalData(TensorProto t, OnnxType type, long count) throws IOException {
            String name = t.getName();
            Map<String, String> fields = new HashMap<>();
            t.getExternalDataList().forEach(e -> fields.put(e.getKey(), e.getValue()));
            String location = fields.get("location");
            if (location == null || location.isEmpty()) {
                throw new ModelFormatException(path, name, "field external_data.location: missing");
            }
            Path folder = path.toAbsolutePath().getParent();
            Path file = folder.resolve(location).normalize();
            if (Path.of(location).isAbsolute() || !file.startsWith(folder)) {
                throw new ModelFormatException(path, name, "field external_data.location: '" + location
                        + "' must be a relative path inside the model's folder");
            }
            MemorySegment data = mapped.get(file);
            if (data == null) {
                if (!Files.isRegularFile(file)) {
                    throw new ModelFormatException(path, name, "field external_data.location: '" + location
                            + "': no such file " + file);
                }
                try {
                    data = map(file, arena);
                } catch (NoSuchFileException e) {
                    throw new ModelFormatException(path, name, "field external_data.location: '" + location
                            + "': no such file " + file, e);
                }
                mapped.put(file, data);
            }
            long offset = number(fields, "offset", 0, name);
            if (!type.fixedSize()) {
                throw new ModelFormatException(path, name, "field data_type: " + type + " cannot be stored externally");
            }
            long expected = type.rawBytes(count);
            long length = number(fields, "length", expected, name);
            if (length != expected) {
                throw new ModelFormatException(path, name, "field external_data.length: " + length + " bytes but dims "
                        + t.getDimsList() + " of " + type + " need " + expected);
            }
            if (offset > data.byteSize() - length) {
                throw new ModelFormatException(path, name, "field external_data.offset: bytes " + offset + ".." + (offset + length)
                        + " lie beyond the end of " + file.getFileName() + " (" + data.byteSize() + " bytes): truncated");
            }
            return data.asSlice(offset, length);
        }

        private long number(Map<String, String> fields, String key, long otherwise, String tensor) {
            String text = fields.get(key);
            if (text == null) {
                return otherwise;
            }
            try {
                long v = Long.parseLong(text.trim());
                if (v < 0) {
                    throw new NumberFormatException("negative");
                }
                return v;
            } catch (NumberFormatException e) {
                throw new ModelFormatException(path, tensor, "field external_data." + key + ": '" + text
                        + "' is not a non-negative integer");
            }
        }
    }
}
