package dev.palettizer.io;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.palettizer.io.SafetensorsWriter.Payload;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an ONNX model whose initializers are streamed, one at a time, after the rest of the
 * model: the protobuf is assembled by hand (ModelProto field 7 = graph, GraphProto field 5 =
 * initializer, TensorProto field 9 = raw_data) with lengths computed up front, so no tensor data is
 * ever gathered in memory. With external data, every raw tensor of at least
 * {@link #EXTERNAL_MIN_BYTES} goes to {@code <model file name>.data} beside the model, aligned so
 * ONNX Runtime can map it. Both files are written to temporaries and renamed into place (data file
 * first).
 */
final class OnnxSerializer {
    /** Smaller raw tensors stay in the protobuf even with external data (as onnx's own converter does). */
    static final long EXTERNAL_MIN_BYTES = 1024;
    /** protobuf refuses messages of 2 GiB or more; beyond this (with margin) data must go external. */
    static final long EMBEDDED_LIMIT = Integer.MAX_VALUE - (64L << 20);
    static final String DATA_SUFFIX = ".data";
    private static final long PAGE = 4096;
    private static final long SMALL_ALIGN = 64;
    private static final int GRAPH = 7;
    private static final int INITIALIZER = 5;
    private static final int RAW_DATA = 9;

    private OnnxSerializer() {}

    /** One initializer of the output. */
    sealed interface Entry permits Whole, Streamed {
        String name();

        /** Bytes this entry adds to an embedded model. */
        long embeddedSize();
    }

    /** A TensorProto written as it is: typed fields (float_data, ...) or small tensors. */
    record Whole(TensorProto tensor) implements Entry {
        @Override
        public String name() {
            return tensor.getName();
        }

        @Override
        public long embeddedSize() {
            return tensor.getSerializedSize();
        }
    }

    /** A header (a TensorProto without data, see {@link #header}) and its raw little-endian bytes. */
    record Streamed(TensorProto header, Payload data) implements Entry {
        @Override
        public String name() {
            return header.getName();
        }

        @Override
        public long embeddedSize() {
            return header.getSerializedSize() + lengthDelimitedSize(RAW_DATA, data.byteSize());
        }
    }

    /** {@code t} without any data field or external reference, ready to carry new data. */
    static TensorProto header(TensorProto t) {
        return t.toBuilder().clearRawData().clearFloatData().clearInt32Data().clearInt64Data().clearDoubleData()
                .clearUint64Data().clearStringData().clearExternalData().clearDataLocation().build();
    }

    /** Whether the model would pass protobuf's size limit if everything stayed embedded. */
    static boolean tooLargeToEmbed(ModelProto skeleton, List<Entry> initializers) {
        long size = skeleton.getSerializedSize();
        for (Entry e : initializers) {
            size += lengthDelimitedSize(INITIALIZER, e.embeddedSize());
        }
        return size > EMBEDDED_LIMIT;
    }

    /**
     * Writes {@code skeleton} (a model whose graph has no initializers) with {@code initializers}.
     *
     * @throws IllegalArgumentException if {@code out} or its data file is one of {@code inputs}
     */
    static void write(ModelProto skeleton, List<Entry> initializers, Path out, boolean external, List<Path> inputs)
            throws IOException {
        Path dataFile = out.toAbsolutePath().resolveSibling(out.getFileName() + DATA_SUFFIX);
        AtomicOutput.refuseInputs(out, inputs);
        if (external) {
            AtomicOutput.refuseInputs(dataFile, inputs);
        }
        Path modelTemp = AtomicOutput.tempBeside(out);
        Path dataTemp = external ? AtomicOutput.tempBeside(dataFile) : null;
        try {
            List<Entry> placed = external
                    ? writeExternal(initializers, dataTemp, dataFile.getFileName().toString())
                    : initializers;
            writeModel(skeleton, placed, modelTemp);
            if (external) {
                AtomicOutput.moveOnto(dataTemp, dataFile);
            }
            AtomicOutput.moveOnto(modelTemp, out);
        } catch (IOException | RuntimeException | Error e) {
            AtomicOutput.discard(modelTemp, e);
            if (dataTemp != null) {
                AtomicOutput.discard(dataTemp, e);
            }
            throw e;
        }
    }

    /** Writes the large raw tensors to the data file; returns the entries with those now referencing it. */
    private static List<Entry> writeExternal(List<Entry> initializers, Path dataTemp, String location) throws IOException {
        List<Entry> placed = new ArrayList<>();
        try (FileChannel channel = FileChannel.open(dataTemp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (Entry e : initializers) {
                if (!(e instanceof Streamed s) || s.data().byteSize() < EXTERNAL_MIN_BYTES) {
                    placed.add(e);
                    continue;
                }
                long size = s.data().byteSize();
                long align = size >= (1 << 20) ? PAGE : SMALL_ALIGN;
                long offset = (channel.position() + align - 1) / align * align;
                Payloads.writeFully(channel, ByteBuffer.allocate((int) (offset - channel.position())));
                writePayload(channel, s);
                placed.add(new Whole(s.header().toBuilder()
                        .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(entry("location", location))
                        .addExternalData(entry("offset", Long.toString(offset)))
                        .addExternalData(entry("length", Long.toString(size)))
                        .build()));
            }
            channel.force(true);
        }
        return placed;
    }

    private static void writeModel(ModelProto skeleton, List<Entry> initializers, Path temp) throws IOException {
        ModelProto rest = skeleton.toBuilder().clearGraph().build();
        GraphProto graph = skeleton.getGraph().toBuilder().clearInitializer().build();
        long graphSize = graph.getSerializedSize();
        for (Entry e : initializers) {
            graphSize += lengthDelimitedSize(INITIALIZER, e.embeddedSize());
        }
        long total = rest.getSerializedSize() + lengthDelimitedSize(GRAPH, graphSize);
        if (total > EMBEDDED_LIMIT) {
            throw new IllegalStateException("model of " + total + " bytes is too large for one protobuf; use external data");
        }
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            CodedOutputStream out = CodedOutputStream.newInstance(Channels.newOutputStream(channel), 1 << 16);
            rest.writeTo(out);
            out.writeTag(GRAPH, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            out.writeUInt32NoTag((int) graphSize);
            graph.writeTo(out);
            for (Entry e : initializers) {
                switch (e) {
                    case Whole w -> out.writeMessage(INITIALIZER, w.tensor());
                    case Streamed s -> {
                        out.writeTag(INITIALIZER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                        out.writeUInt32NoTag((int) s.embeddedSize());
                        s.header().writeTo(out);
                        out.writeTag(RAW_DATA, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                        out.writeUInt32NoTag((int) s.data().byteSize());
                        out.flush();
                        writePayload(channel, s);
                    }
                }
            }
            out.flush();
            if (channel.position() != total) {
                throw new IOException("wrote " + channel.position() + " bytes of a model of " + total + " bytes");
            }
            channel.force(true);
        }
    }

    private static void writePayload(FileChannel channel, Streamed s) throws IOException {
        long before = channel.position();
        s.data().writeTo(channel);
        if (channel.position() - before != s.data().byteSize()) {
            throw new IOException("tensor '" + s.name() + "': payload wrote " + (channel.position() - before)
                    + " bytes instead of " + s.data().byteSize());
        }
    }

    private static StringStringEntryProto entry(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    /** Tag, length varint and content of a length-delimited field. */
    private static long lengthDelimitedSize(int field, long contentSize) {
        return CodedOutputStream.computeTagSize(field) + varintSize(contentSize) + contentSize;
    }

    private static int varintSize(long value) {
        return CodedOutputStream.computeUInt64SizeNoTag(value);
    }
}
