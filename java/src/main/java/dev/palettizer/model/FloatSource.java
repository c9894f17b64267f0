package dev.palettizer.model;

/**
 * Read-only float view of a tensor's elements in row-major order, whatever their storage type.
 * Bulk reads keep the virtual call out of the per-element loops.
 */
public interface FloatSource {
    long size();

    /** Copies {@code len} elements starting at element {@code offset} into {@code dst[dstOff..]}. */
    void read(long offset, float[] dst, int dstOff, int len);

    /**
     * Says the values will not be read again soon: a view of a mapped file drops its resident pages
     * (the file keeps them; a later read faults them back in), so a model streamed tensor by tensor
     * does not stay resident as a whole. Values in memory stay as they are.
     */
    default void release() {
    }
}
