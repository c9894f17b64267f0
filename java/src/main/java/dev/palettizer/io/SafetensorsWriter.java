package dev.palettizer.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.palettizer.model.DType;
import dev.palettizer.model.Shapes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes a safetensors file by streaming each tensor's payload straight to disk, in the order the
 * tensors were added, so a model larger than the heap can be rewritten. The file appears atomically:
 * it is written to a hidden temporary file beside the target, forced to disk and renamed over the
 * target; on failure the temporary file is deleted and the target is left as it was. The header is
 * padded with spaces so that the data section starts on an 8-byte boundary.
 */
public final class SafetensorsWriter {

    /** The bytes of one tensor, little-endian, written on demand. */
    public interface Payload {
        long byteSize();

        /** Writes exactly {@link #byteSize()} bytes to {@code out}. */
        void writeTo(WritableByteChannel out) throws IOException;

        /** The segment's bytes as they are, e.g. a mapped tensor of an input file (which must stay open). */
        static Payload of(MemorySegment bytes) {
            return new Payloads.SegmentPayload(bytes);
        }

        /** The array's bytes as they are (not copied: do not modify it before writing). */
        static Payload of(byte[] bytes) {
            return new Payloads.SegmentPayload(MemorySegment.ofArray(bytes));
        }

        /** The values as little-endian F32 (not copied: do not modify them before writing). */
        static Payload ofFloats(float... values) {
            return new Payloads.LittleEndianPayload(MemorySegment.ofArray(values), Payloads.F32_LE);
        }

        /** The values as little-endian I32 (not copied: do not modify them before writing). */
        static Payload ofInts(int... values) {
            return new Payloads.LittleEndianPayload(MemorySegment.ofArray(values), Payloads.I32_LE);
        }
    }

    /** A tensor to write: its header entry and its bytes, which must number product(shape) * dtype size. */
    public record Tensor(String name, DType dtype, long[] shape, Payload payload) {
        public Tensor {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(dtype, "dtype");
            Objects.requireNonNull(payload, "payload");
            shape = shape.clone();
            if (name.equals(SafetensorsFile.METADATA_KEY)) {
                throw new IllegalArgumentException("tensor name " + name + " is reserved for the metadata");
            }
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape)
                            + " has a negative dimension");
                }
            }
            long needed;
            try {
                needed = Math.multiplyExact(Shapes.elementCount(shape), dtype.byteSize());
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape)
                        + " has too many elements", e);
            }
            if (payload.byteSize() != needed) {
                throw new IllegalArgumentException("tensor '" + name + "': payload holds " + payload.byteSize()
                        + " bytes but shape " + Arrays.toString(shape) + " of " + dtype + " needs " + needed);
            }
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        /** A copy of a tensor of an open input file, under the same name; the file must stay open until written. */
        public static Tensor copyOf(SafetensorsFile.Entry entry) {
            return new Tensor(entry.name(), entry.dtype(), entry.shape(), Payload.of(entry.data()));
        }

        @Override
        public String toString() {
            return name + " " + dtype + Arrays.toString(shape);
        }
    }

    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Path> inputs = new ArrayList<>();

    /** Appends a tensor; names must be unique. */
    public SafetensorsWriter add(Tensor tensor) {
        if (!names.add(tensor.name())) {
            throw new IllegalArgumentException("duplicate tensor name '" + tensor.name() + "'");
        }
        tensors.add(tensor);
        return this;
    }

    public SafetensorsWriter addAll(List<Tensor> more) {
        more.forEach(this::add);
        return this;
    }

    /** Sets a {@code __metadata__} entry, replacing an earlier value for the key. */
    public SafetensorsWriter putMetadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    public SafetensorsWriter putAllMetadata(Map<String, String> entries) {
        entries.forEach(this::putMetadata);
        return this;
    }

    /** Makes {@link #write} refuse {@code input} as its target: the payloads may be reading from it. */
    public SafetensorsWriter forbidOverwriting(Path input) {
        inputs.add(Objects.requireNonNull(input, "input"));
        return this;
    }

    /**
     * Writes the file atomically.
     *
     * @throws IllegalArgumentException if {@code out} is one of the inputs given to {@link #forbidOverwriting}
     * @throws IOException if writing fails; {@code out} is then unchanged and no temporary file remains
     */
    public void write(Path out) throws IOException {
        AtomicOutput.refuseInputs(out, inputs);
        byte[] header = header();
        Path temp = AtomicOutput.tempBeside(out);
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                Payloads.writeFully(channel, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(0, header.length));
                Payloads.writeFully(channel, ByteBuffer.wrap(header));
                for (Tensor tensor : tensors) {
                    long before = channel.position();
                    tensor.payload().writeTo(channel);
                    long written = channel.position() - before;
                    if (written != tensor.payload().byteSize()) {
                        throw new IOException("tensor '" + tensor.name() + "': payload wrote " + written
                                + " bytes instead of " + tensor.payload().byteSize());
                    }
                }
                channel.force(true);
            }
            AtomicOutput.moveOnto(temp, out);
        } catch (IOException | RuntimeException | Error e) {
            AtomicOutput.discard(temp, e);
            throw e;
        }
    }

    /** The header JSON, metadata first, then the tensors at consecutive offsets, space-padded to 8 bytes. */
    private byte[] header() {
        ObjectNode root = JsonFields.objectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsFile.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Tensor tensor : tensors) {
            ObjectNode entry = root.putObject(tensor.name());
            entry.put("dtype", tensor.dtype().name());
            ArrayNode shape = entry.putArray("shape");
            for (long d : tensor.shape) {
                shape.add(d);
            }
            long end = offset + tensor.payload().byteSize();
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JsonFields.bytes(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot serialise the safetensors header", e);
        }
        int padded = (json.length + 7) & ~7;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }
}
