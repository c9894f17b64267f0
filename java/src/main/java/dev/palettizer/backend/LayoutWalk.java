package dev.palettizer.backend;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.palettizer.model.FloatSource;
import dev.palettizer.model.GroupLayout;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Host-side arithmetic over a {@link GroupLayout} for the device backends (OpenCL, CUDA): the
 * kernels' layout struct, which positions hold a range of groups, which slices ("slots") of each
 * group a chunk of positions covers, and the component-major copies of a chunk.
 */
public final class LayoutWalk {
    private LayoutWalk() {}

    /** A range of index-stream positions processed in one upload. */
    public record Chunk(long first, long count) {
        public long end() {
            return first + count;
        }
    }

    /** pal_layout of palettizer_core.h, field for field. */
    public static long[] struct(GroupLayout l) {
        return new long[] {l.rows(), l.rowStride(), l.inner(), l.clusterDim(), l.axis(), l.groupSize(), l.groups(),
            l.runLength(), l.runCount(), l.runStride(), l.vectorsPerGroup()};
    }

    /** First position holding a vector of group g0 or later (groups along axis 0 are position blocks). */
    public static long startPosition(GroupLayout l, int g0) {
        return l.axis() == 0 ? g0 * l.groupSize() / l.clusterDim() * l.rowStride() : 0;
    }

    /** End of the positions holding vectors of groups before g1. */
    public static long endPosition(GroupLayout l, int g1) {
        return l.axis() == 0 ? g1 * l.groupSize() / l.clusterDim() * l.rowStride() : l.vectorCount();
    }

    /** Splits [from, to) into chunks of at most {@code max} positions (a multiple of 8, so packed bytes never straddle). */
    public static List<Chunk> chunks(long from, long to, long max) {
        long step = Math.max(8, max / 8 * 8);
        List<Chunk> out = new ArrayList<>();
        for (long p = from; p < to; p += step) {
            out.add(new Chunk(p, Math.min(step, to - p)));
        }
        return out;
    }

    /** How many vectors of group g (in group order) lie at positions before p. */
    public static long countBefore(GroupLayout l, int g, long p) {
        long rs = l.rowStride();
        long block = p / rs;
        long offset = p % rs;
        return switch (l.axis()) {
            case 0 -> {
                long first = g * l.groupSize() / l.clusterDim();
                long last = (g + 1) * l.groupSize() / l.clusterDim();
                yield block < first ? 0 : block >= last ? l.vectorsPerGroup() : (block - first) * rs + offset;
            }
            case 1 -> block * l.runLength() + Math.clamp(offset - g * l.groupSize() * l.inner(), 0, l.runLength());
            default -> p;
        };
    }

    /**
     * The segments {group, slot, from, to} (flattened) of groups [g0, g1) inside the chunk: each
     * group's vectors there, cut at multiples of {@code slice}; slot = (g - g0) * slotsPerGroup + slice index.
     */
    public static long[] segments(GroupLayout l, int g0, int g1, Chunk chunk, long slice, long slotsPerGroup) {
        List<long[]> out = new ArrayList<>();
        for (int g = g0; g < g1; g++) {
            long a = countBefore(l, g, chunk.first());
            long b = countBefore(l, g, chunk.end());
            for (long s = a / slice; s * slice < b; s++) {
                long from = Math.max(a, s * slice);
                long to = Math.min(b, (s + 1) * slice);
                if (from < to) {
                    out.add(new long[] {g, (g - g0) * slotsPerGroup + s, from, to});
                }
            }
        }
        long[] flat = new long[out.size() * 4];
        for (int i = 0; i < out.size(); i++) {
            System.arraycopy(out.get(i), 0, flat, 4 * i, 4);
        }
        return flat;
    }

    // ---------------------------------------------------------------- component-major copies

    /**
     * Copies positions [from, to) of chunk {@code c} of {@code src} into {@code dst}, component-major
     * as the kernels read it: component t of the vector at position p goes to float index
     * {@code t * c.count() + (p - c.first())}. Disjoint position ranges of one chunk write disjoint
     * floats, so several threads may fill one chunk. {@code piece} is the caller's read buffer.
     */
    public static void gather(FloatSource src, GroupLayout l, Chunk c, long from, long to, MemorySegment dst,
                              float[] piece) {
        forEachRowPiece(l, c, from, to, (element, index, length) -> {
            for (long done = 0; done < length; done += piece.length) {
                int n = (int) Math.min(piece.length, length - done);
                src.read(element + done, piece, 0, n);
                MemorySegment.copy(piece, 0, dst, JAVA_FLOAT, 4 * (index + done), n);
            }
        });
    }

    /** Writes a component-major chunk of dense values ({@code src}) into row-major {@code out}. */
    public static void scatter(MemorySegment src, GroupLayout l, Chunk c, float[] out) {
        forEachRowPiece(l, c, c.first(), c.end(), (element, index, length) ->
                MemorySegment.copy(src, JAVA_FLOAT, 4 * index, out, Math.toIntExact(element), Math.toIntExact(length)));
    }

    /** A run of {@code length} consecutive elements of one row: its first element and its float index in the chunk. */
    private interface RowPiece {
        void accept(long element, long index, long length);
    }

    private static void forEachRowPiece(GroupLayout l, Chunk c, long from, long to, RowPiece action) {
        long rs = l.rowStride();
        int cd = l.clusterDim();
        for (long p = from; p < to; ) {
            long block = p / rs;
            long offset = p % rs;
            long length = Math.min(rs - offset, to - p);
            for (int t = 0; t < cd; t++) {
                action.accept((block * cd + t) * rs + offset, t * c.count() + (p - c.first()), length);
            }
            p += length;
        }
    }
}
