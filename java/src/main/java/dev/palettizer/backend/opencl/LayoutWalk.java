package dev.palettizer.backend.opencl;

import dev.palettizer.model.GroupLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Host-side arithmetic over a {@link GroupLayout}: the kernels' layout struct, which positions hold
 * a range of groups, and which slices ("slots") of each group a chunk of positions covers.
 */
final class LayoutWalk {
    private LayoutWalk() {}

    /** A range of index-stream positions processed in one upload. */
    record Chunk(long first, long count) {
        long end() {
            return first + count;
        }
    }

    /** pal_layout of palettizer_core.h, field for field. */
    static long[] struct(GroupLayout l) {
        return new long[] {l.rows(), l.rowStride(), l.inner(), l.clusterDim(), l.axis(), l.groupSize(), l.groups(),
            l.runLength(), l.runCount(), l.runStride(), l.vectorsPerGroup()};
    }

    /** First position holding a vector of group g0 or later (groups along axis 0 are position blocks). */
    static long startPosition(GroupLayout l, int g0) {
        return l.axis() == 0 ? g0 * l.groupSize() / l.clusterDim() * l.rowStride() : 0;
    }

    /** End of the positions holding vectors of groups before g1. */
    static long endPosition(GroupLayout l, int g1) {
        return l.axis() == 0 ? g1 * l.groupSize() / l.clusterDim() * l.rowStride() : l.vectorCount();
    }

    /** Splits [from, to) into chunks of at most {@code max} positions (a multiple of 8, so packed bytes never straddle). */
    static List<Chunk> chunks(long from, long to, long max) {
        long step = Math.max(8, max / 8 * 8);
        List<Chunk> out = new ArrayList<>();
        for (long p = from; p < to; p += step) {
            out.add(new Chunk(p, Math.min(step, to - p)));
        }
        return out;
    }

    /** How many vectors of group g (in group order) lie at positions before p. */
    static long countBefore(GroupLayout l, int g, long p) {
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
    static long[] segments(GroupLayout l, int g0, int g1, Chunk chunk, long slice, long slotsPerGroup) {
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
}
