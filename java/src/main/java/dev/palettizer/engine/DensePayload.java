package dev.palettizer.engine;

import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.PalettizedTensor;
import java.io.IOException;
import java.nio.channels.WritableByteChannel;

/**
 * A palettized tensor's dense values in its original dtype, rebuilt only when the writer reaches
 * it, so one dense tensor is in memory at a time. {@code transposed}: the tensor is in the engine's
 * [out, in] orientation and is written back as the stored [in, out] matrix.
 */
final class DensePayload implements SafetensorsWriter.Payload {
    private final ModelPalettizer models;
    private final PalettizedTensor t;
    private final boolean transposed;

    DensePayload(ModelPalettizer models, PalettizedTensor t, boolean transposed) {
        if (transposed && t.shape().length != 2) {
            throw new IllegalArgumentException("tensor '" + t.name() + "': only 2-D tensors can be transposed");
        }
        this.models = models;
        this.t = t;
        this.transposed = transposed;
    }

    @Override
    public long byteSize() {
        return t.elementCount() * t.originalDType().byteSize();
    }

    @Override
    public void writeTo(WritableByteChannel channel) throws IOException {
        float[] values = models.reconstruct(t);
        FloatChannelWriter out = new FloatChannelWriter(channel, t.originalDType());
        if (!transposed) {
            for (float v : values) {
                out.put(v);
            }
        } else {
            int rows = (int) t.shape()[0];
            int cols = (int) t.shape()[1];
            for (int c = 0; c < cols; c++) {
                for (int r = 0; r < rows; r++) {
                    out.put(values[r * cols + c]);
                }
            }
        }
        out.flush();
    }
}
