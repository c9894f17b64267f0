package dev.palettizer.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes safetensors bytes by hand, independently of {@link SafetensorsWriter}, to test the reader. */
final class RawFiles {
    private RawFiles() {}

    static Path write(Path file, String header, byte[] data) throws IOException {
        return write(file, header.getBytes(StandardCharsets.UTF_8), data);
    }

    static Path write(Path file, byte[] header, byte[] data) throws IOException {
        return write(file, header.length, header, data);
    }

    /** A file whose length field says {@code declaredLength}, whatever the header really is. */
    static Path write(Path file, long declaredLength, byte[] header, byte[] data) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putLong(declaredLength).put(header).put(data);
        return Files.write(file, bytes.array());
    }

    static byte[] f32(float... values) {
        ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            bytes.putFloat(v);
        }
        return bytes.array();
    }

    static byte[] f16(float... values) {
        ByteBuffer bytes = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            bytes.putShort(Float.floatToFloat16(v));
        }
        return bytes.array();
    }

    /** BF16 by truncation: the test values are chosen to be exact in BF16. */
    static byte[] bf16(float... values) {
        ByteBuffer bytes = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            bytes.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
        }
        return bytes.array();
    }

    static byte[] i64(long... values) {
        ByteBuffer bytes = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            bytes.putLong(v);
        }
        return bytes.array();
    }

    /** The header JSON of a file, read by hand: length field, then that many bytes. */
    static String header(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        long length = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        return new String(bytes, 8, Math.toIntExact(length), StandardCharsets.UTF_8);
    }
}
