package dev.palettizer.engine;

import dev.palettizer.model.DType;
import dev.palettizer.model.Floats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/** Writes floats to a channel as little-endian F32, F16 or BF16, through one reused buffer. */
final class FloatChannelWriter {
    private final WritableByteChannel channel;
    private final DType dtype;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

    FloatChannelWriter(WritableByteChannel channel, DType dtype) {
        if (!dtype.isPalettizable()) {
            throw new IllegalArgumentException("cannot write floats as " + dtype + " (only F32, F16, BF16)");
        }
        this.channel = channel;
        this.dtype = dtype;
    }

    void put(float v) throws IOException {
        if (buf.remaining() < 4) {
            flush();
        }
        switch (dtype) {
            case F32 -> buf.putFloat(v);
            case F16 -> buf.putShort(Float.floatToFloat16(v));
            default -> buf.putShort(Floats.toBf16(v));
        }
    }

    /** Writes out what is buffered; call once at the end. */
    void flush() throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
        buf.clear();
    }
}
