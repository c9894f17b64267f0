package dev.palettizer.backend;

import dev.palettizer.model.GroupLayout;

/**
 * Walks the vectors [from, to) of one group, in group order, as pieces of consecutive first
 * elements that stay within one row (so a piece has one channel scale) and within {@code maxPiece}.
 * Usage: {@code while (c.next()) { use c.element, c.position, c.row, c.length }}.
 */
public final class PieceCursor {
    private final GroupLayout layout;
    private final long start;
    private final long to;
    private final int maxPiece;
    private long next;

    /** First element of the current piece. */
    public long element;
    /** Index-stream position of the current piece's first vector. */
    public long position;
    /** Row of the current piece. */
    public long row;
    /** Vectors in the current piece. */
    public int length;

    public PieceCursor(GroupLayout layout, int group, long from, long to, int maxPiece) {
        this.layout = layout;
        this.start = layout.groupStart(group);
        this.next = from;
        this.to = to;
        this.maxPiece = maxPiece;
    }

    public boolean next() {
        if (next >= to) {
            return false;
        }
        long runLength = layout.runLength();
        long run = next / runLength;
        long offset = next % runLength;
        long rowStride = layout.rowStride();
        element = start + run * layout.runStride() + offset;
        row = element / rowStride;
        long len = Math.min(Math.min(runLength - offset, to - next), maxPiece);
        length = (int) Math.min(len, rowStride - element % rowStride);
        position = layout.position(element);
        next += length;
        return true;
    }
}
