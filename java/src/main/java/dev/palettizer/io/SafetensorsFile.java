package dev.palettizer.io;

import com.fasterxml.jackson.databind.JsonNode;
import dev.palettizer.model.DType;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.SegmentSource;
import dev.palettizer.model.Shapes;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * A safetensors file mapped read-only, with its header parsed and validated up front so that every
 * {@link Entry} can be trusted: its segment lies inside the file and holds exactly its shape's bytes.
 * Tensor data is never copied to the heap; the segments stay valid until {@link #close()}.
 * Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data section that
 * the {@code data_offsets} are relative to.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation's limit; a larger header is corruption, not a model. */
    static final long MAX_HEADER_BYTES = 100_000_000;
    static final String METADATA_KEY = "__metadata__";

    private static final List<String> ENTRY_FIELDS = List.of("dtype", "shape", "data_offsets");

    private final Path path;
    private final Arena arena;
    private final List<Entry> tensors;
    private final Map<String, Entry> byName;
    private final Map<String, String> metadata;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * One tensor of the file. {@code data} is a read-only slice of the mapping, valid while the file
     * is open; {@code file} is only there to name the file in error messages.
     */
    public record Entry(String name, DType dtype, long[] shape, MemorySegment data, Path file) {
        public Entry {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long elementCount() {
            return Shapes.elementCount(shape);
        }

        /** The elements as floats, read straight from the mapping; only F32, F16 and BF16 qualify. */
        public FloatSource floats() {
            if (!dtype.isPalettizable()) {
                throw new ModelFormatException(file, name, "dtype " + dtype
                        + " cannot be read as floats (only F32, F16 and BF16 can)");
            }
            return new SegmentSource(data, dtype);
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape);
        }
    }

    private SafetensorsFile(Path path, Arena arena, List<Entry> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.tensors = List.copyOf(tensors);
        this.byName = tensors.stream().collect(Collectors.toMap(Entry::name, e -> e));
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /**
     * Maps and validates {@code path}.
     *
     * @throws ModelFormatException if the content is not a well-formed safetensors file
     * @throws IOException if the file cannot be opened or mapped
     */
    public static SafetensorsFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            // The mapping outlives the channel; it is released when the arena closes.
            MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            SafetensorsFile opened = new Parser(path, file).parse(arena);
            arena = null;
            return opened;
        } finally {
            if (arena != null) {
                arena.close();
            }
        }
    }

    /**
     * The same checks as {@link #open} on bytes in memory, named {@code path} in errors: for the fuzz
     * targets, which would otherwise spend their time mapping and unmapping files.
     */
    static SafetensorsFile parse(Path path, byte[] bytes) {
        Arena arena = Arena.ofConfined();
        try {
            MemorySegment file = arena.allocate(bytes.length);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, file, 0, bytes.length);
            SafetensorsFile parsed = new Parser(path, file.asReadOnly()).parse(arena);
            arena = null;
            return parsed;
        } finally {
            if (arena != null) {
                arena.close();
            }
        }
    }

    public Path path() {
        return path;
    }

    /** Every tensor, in header order. */
    public List<Entry> tensors() {
        return tensors;
    }

    public Optional<Entry> tensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The header's {@code __metadata__} map, in header order; empty when absent. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Unmaps the file; the entries' segments become unusable. Closing again does nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            arena.close();
        }
    }

    /** Reads and checks the header of one mapped file. */
    private static final class Parser {
        private final Path path;
        private final MemorySegment file;

        Parser(Path path, MemorySegment file) {
            this.path = path;
            this.file = file;
        }

        SafetensorsFile parse(Arena arena) {
            if (file.byteSize() < 8) {
                throw new ModelFormatException(path, "file is " + file.byteSize()
                        + " bytes, shorter than the 8-byte header length: truncated");
            }
            // Through a ByteBuffer, not a MemorySegment get: that one read would make the JVM spin six method-handle
            // classes on every start (the AOT cache does not hold them), about 5 ms of a cold run.
            long headerLength = file.asSlice(0, 8).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            long available = file.byteSize() - 8;
            // Compared unsigned: a u64 above Long.MAX_VALUE reads as negative.
            if (Long.compareUnsigned(headerLength, available) > 0) {
                throw new ModelFormatException(path, "header length " + Long.toUnsignedString(headerLength)
                        + " runs past the end of the file (" + available + " bytes follow it): truncated or not safetensors");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw new ModelFormatException(path, "header length " + headerLength + " exceeds the limit of "
                        + MAX_HEADER_BYTES + " bytes");
            }
            JsonFields header = JsonFields.parseObject(headerText(headerLength), "header",
                    detail -> new ModelFormatException(path, detail));
            MemorySegment data = file.asSlice(8 + headerLength);

            List<Placed> placed = new ArrayList<>();
            Map<String, String> metadata = Map.of();
            for (Iterator<String> it = header.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (name.equals(METADATA_KEY)) {
                    metadata = metadata(header.get(name));
                } else {
                    placed.add(entry(name, header.get(name), data));
                }
            }
            checkNoOverlap(placed);
            return new SafetensorsFile(path, arena, placed.stream().map(Placed::entry).toList(), metadata);
        }

        private String headerText(long length) {
            ByteBuffer bytes = file.asSlice(8, length).asByteBuffer();
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(bytes)
                        .toString();
            } catch (CharacterCodingException e) {
                throw new ModelFormatException(path, "header is not valid UTF-8", e);
            }
        }

        private Map<String, String> metadata(JsonNode node) {
            if (!node.isObject()) {
                throw new ModelFormatException(path, METADATA_KEY + " must be an object of strings, got " + node);
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                if (!field.getValue().isTextual()) {
                    throw new ModelFormatException(path, METADATA_KEY + " '" + field.getKey()
                            + "' must be a string, got " + field.getValue());
                }
                metadata.put(field.getKey(), field.getValue().textValue());
            }
            return metadata;
        }

        private Placed entry(String name, JsonNode node, MemorySegment data) {
            JsonFields fields = JsonFields.of(node, "entry", detail -> new ModelFormatException(path, name, detail));
            fields.allowOnly(ENTRY_FIELDS);
            String dtypeName = fields.text("dtype");
            DType dtype = DType.fromSafetensors(dtypeName).orElseThrow(() -> new ModelFormatException(path, name,
                    "dtype '" + dtypeName + "' is unknown (expected one of " + Arrays.toString(DType.values()) + ")"));
            long[] shape = fields.nonNegativeLongs("shape");
            long[] offsets = fields.nonNegativeLongs("data_offsets");
            if (offsets.length != 2) {
                throw new ModelFormatException(path, name, "data_offsets must be [begin, end], got "
                        + Arrays.toString(offsets));
            }
            long begin = offsets[0];
            long end = offsets[1];
            if (begin > end) {
                throw new ModelFormatException(path, name, "data_offsets " + Arrays.toString(offsets)
                        + " begin after they end");
            }
            if (end > data.byteSize()) {
                throw new ModelFormatException(path, name, "data_offsets " + Arrays.toString(offsets)
                        + " end past the data section (" + data.byteSize() + " bytes): truncated");
            }
            long needed = neededBytes(name, dtype, shape);
            if (end - begin != needed) {
                throw new ModelFormatException(path, name, "data_offsets " + Arrays.toString(offsets) + " hold "
                        + (end - begin) + " bytes but shape " + Arrays.toString(shape) + " of " + dtype
                        + " needs " + needed);
            }
            return new Placed(new Entry(name, dtype, shape, data.asSlice(begin, needed), path), begin, end);
        }

        private long neededBytes(String name, DType dtype, long[] shape) {
            try {
                return Math.multiplyExact(Shapes.elementCount(shape), dtype.byteSize());
            } catch (ArithmeticException e) {
                throw new ModelFormatException(path, name, "shape " + Arrays.toString(shape)
                        + " has more elements than a file can hold", e);
            }
        }

        /** Tensors must not share bytes: sorted by start, each non-empty range must begin after the last ended. */
        private void checkNoOverlap(List<Placed> placed) {
            List<Placed> sorted = new ArrayList<>();
            for (Placed p : placed) {
                if (p.end > p.begin) {
                    sorted.add(p);
                }
            }
            Collections.sort(sorted);
            for (int i = 1; i < sorted.size(); i++) {
                Placed previous = sorted.get(i - 1);
                Placed current = sorted.get(i);
                if (current.begin < previous.end) {
                    throw new ModelFormatException(path, current.entry.name(), "data_offsets " + current.range()
                            + " overlap those of tensor '" + previous.entry.name() + "' " + previous.range());
                }
            }
        }
    }

    /**
     * An entry with its byte range in the data section, kept only while checking for overlaps. Ordered by
     * begin itself: a {@code Comparator.comparingLong} would spin a lambda class on every start.
     */
    private record Placed(Entry entry, long begin, long end) implements Comparable<Placed> {
        @Override
        public int compareTo(Placed other) {
            return Long.compare(begin, other.begin);
        }

        String range() {
            return "[" + begin + ", " + end + "]";
        }
    }
}
