package dev.palettizer.io;

import dev.palettizer.io.SafetensorsWriter.Payload;
import dev.palettizer.model.FloatSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;

/**
 * The elements of a {@link FloatSource} (a mapped tensor, a normalising view) as little-endian F32,
 * read and written chunk by chunk so that the source is never copied whole.
 */
public record FloatSourcePayload(FloatSource values) implements Payload {
    private static final int CHUNK = 1 << 16;

    @Override
    public long byteSize() {
        return 4 * values.size();
    }

    @Override
    public void writeTo(WritableByteChannel out) throws IOException {
        float[] chunk = new float[(int) Math.min(CHUNK, values.size())];
        ByteBuffer bytes = ByteBuffer.allocate(4 * chunk.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long done = 0; done < values.size(); done += chunk.length) {
            int n = (int) Math.min(chunk.length, values.size() - done);
            values.read(done, chunk, 0, n);
            bytes.clear();
            bytes.asFloatBuffer().put(chunk, 0, n);
            bytes.limit(4 * n);
            Payloads.writeFully(out, bytes);
        }
    }
}
