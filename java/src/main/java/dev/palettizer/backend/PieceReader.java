package dev.palettizer.backend;

import dev.palettizer.model.FloatSource;
import java.util.Arrays;

/**
 * Reads the vectors of a {@link PieceCursor} piece, component-major ({@code x[t * capacity + i]}):
 * raw values, clustered values {@code x = raw / scale}, sensitivities {@code s} (1 without) and
 * clustering weights {@code w = s * scale^2}. One instance per thread; buffers are reused.
 */
public final class PieceReader {
    private final ClusterInput in;
    private final int capacity;
    private long row;

    public final float[] raw;
    public final float[] x;
    public final float[] s;
    public final float[] w;

    public PieceReader(ClusterInput in, int capacity) {
        this.in = in;
        this.capacity = capacity;
        int n = capacity * in.layout().clusterDim();
        raw = new float[n];
        s = new float[n];
        if (in.sensitivities() == null) {
            Arrays.fill(s, 1f);
        }
        // Without channel scales x is raw and w is s: share the arrays instead of copying.
        boolean scaled = in.channelScales() != null;
        x = scaled ? new float[n] : raw;
        w = scaled ? new float[n] : s;
    }

    /** Scale of the current piece's component t (1 without channel scales). */
    public float scale(int component) {
        return in.channelScales() == null ? 1f : in.channelScales()[(int) row + component];
    }

    public void read(PieceCursor c) {
        row = c.row;
        long rowStride = in.layout().rowStride();
        FloatSource sens = in.sensitivities();
        for (int t = 0; t < in.layout().clusterDim(); t++) {
            int off = t * capacity;
            long element = c.element + t * rowStride;
            in.values().read(element, raw, off, c.length);
            if (sens != null) {
                sens.read(element, s, off, c.length);
            }
            if (in.channelScales() == null) {
                continue;
            }
            float scale = scale(t);
            float scale2 = scale * scale;
            for (int i = off; i < off + c.length; i++) {
                x[i] = raw[i] / scale;
                w[i] = s[i] * scale2;
            }
        }
    }
}
