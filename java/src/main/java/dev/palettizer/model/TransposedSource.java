package dev.palettizer.model;

/**
 * Row-major view of the transpose of a [rows, cols] source: element (i, j) of the view, shape
 * [cols, rows], is element (j, i) of the source. Nothing is copied.
 */
public record TransposedSource(FloatSource source, long rows, long cols) implements FloatSource {

    public TransposedSource {
        if (rows < 0 || cols < 0 || source.size() != rows * cols) {
            throw new IllegalArgumentException("source of " + source.size() + " elements is not [" + rows + ", "
                    + cols + "]");
        }
    }

    @Override
    public void release() {
        source.release();
    }

    @Override
    public long size() {
        return rows * cols;
    }

    /**
     * View rows r0..r1 are source columns r0..r1, so each source row touched is read once as one
     * contiguous run of r1 - r0 + 1 values and scattered into place.
     */
    @Override
    public void read(long offset, float[] dst, int dstOff, int len) {
        if (len == 0) {
            return;
        }
        long last = offset + len - 1;
        long r0 = offset / rows;
        long r1 = last / rows;
        long cFrom = r0 == r1 ? offset % rows : 0;
        long cTo = r0 == r1 ? last % rows : rows - 1;
        int width = (int) (r1 - r0 + 1);
        float[] run = new float[width];
        for (long c = cFrom; c <= cTo; c++) {
            source.read(c * cols + r0, run, 0, width);
            for (int k = 0; k < width; k++) {
                long v = (r0 + k) * rows + c;
                if (v >= offset && v <= last) {
                    dst[dstOff + (int) (v - offset)] = run[k];
                }
            }
        }
    }
}
