package dev.palettizer.io;

import dev.palettizer.io.SafetensorsWriter.Payload;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/** The {@link Payload} implementations; they write in bounded chunks so no payload is copied whole. */
final class Payloads {
    static final ValueLayout F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Bytes per write call: bounds the temporary direct buffer the JDK allocates for heap buffers and
     * keeps every ByteBuffer view under its 2 GiB limit.
     */
    static final int CHUNK = 1 << 23;

    private Payloads() {}

    /** Raw bytes of a segment, mapped or on the heap. */
    record SegmentPayload(MemorySegment bytes) implements Payload {
        @Override
        public long byteSize() {
            return bytes.byteSize();
        }

        @Override
        public void writeTo(WritableByteChannel out) throws IOException {
            for (long done = 0; done < bytes.byteSize(); done += CHUNK) {
                writeFully(out, bytes.asSlice(done, Math.min(CHUNK, bytes.byteSize() - done)).asByteBuffer());
            }
            // A tensor copied from a mapped input is not read again: drop its pages (the file keeps them).
            if (bytes.isMapped()) {
                bytes.unload();
            }
        }
    }

    /**
     * A heap array of native-order numbers written as {@code littleEndian} elements of the same
     * size, converted chunk by chunk (a plain copy on little-endian machines).
     */
    record LittleEndianPayload(MemorySegment values, ValueLayout littleEndian) implements Payload {
        @Override
        public long byteSize() {
            return values.byteSize();
        }

        @Override
        public void writeTo(WritableByteChannel out) throws IOException {
            ValueLayout nativeOrder = littleEndian.withOrder(ByteOrder.nativeOrder());
            long elementSize = littleEndian.byteSize();
            long count = values.byteSize() / elementSize;
            long chunkElements = CHUNK / elementSize;
            byte[] chunk = new byte[(int) (Math.min(count, chunkElements) * elementSize)];
            MemorySegment chunkSegment = MemorySegment.ofArray(chunk);
            for (long done = 0; done < count; done += chunkElements) {
                long n = Math.min(chunkElements, count - done);
                MemorySegment.copy(values, nativeOrder, done * elementSize, chunkSegment, littleEndian, 0, n);
                writeFully(out, ByteBuffer.wrap(chunk, 0, (int) (n * elementSize)));
            }
        }
    }

    /** Channels may write less than asked; loop until the buffer is drained. */
    static void writeFully(WritableByteChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }
}
