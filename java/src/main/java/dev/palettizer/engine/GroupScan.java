package dev.palettizer.engine;

import dev.palettizer.backend.ClusterInput;
import dev.palettizer.backend.PieceCursor;
import dev.palettizer.backend.PieceReader;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.SplittableRandom;

/** Host-side reads of one group's vectors: the few-distinct-values check and sampling for seeding. */
final class GroupScan {
    private static final int PIECE = 4096;

    private GroupScan() {}

    /** Wraps a vector so that equal components mean equal keys (bitwise, so -0 and 0 differ). */
    private record VectorKey(float[] v) {
        @Override
        public boolean equals(Object o) {
            return o instanceof VectorKey k && Arrays.equals(v, k.v);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(v);
        }
    }

    /**
     * The group's distinct (scaled) vectors, vector-major and sorted for scalars, when there are at
     * most {@code limit} of them; null as soon as there are more. Such groups are represented
     * exactly by their own values.
     */
    static float[] distinctAtMost(ClusterInput in, int group, int limit) {
        int cd = in.layout().clusterDim();
        LinkedHashSet<VectorKey> seen = new LinkedHashSet<>();
        PieceReader r = new PieceReader(in, PIECE);
        PieceCursor c = new PieceCursor(in.layout(), group, 0, in.layout().vectorsPerGroup(), PIECE);
        while (c.next()) {
            r.read(c);
            for (int i = 0; i < c.length; i++) {
                float[] v = new float[cd];
                for (int t = 0; t < cd; t++) {
                    // +0.0f folds -0.0 into 0 so that they count as one value.
                    v[t] = r.x[t * PIECE + i] + 0.0f;
                }
                if (seen.add(new VectorKey(v)) && seen.size() > limit) {
                    return null;
                }
            }
        }
        float[] out = new float[seen.size() * cd];
        int n = 0;
        for (VectorKey k : seen) {
            System.arraycopy(k.v, 0, out, n, cd);
            n += cd;
        }
        if (cd == 1) {
            Arrays.sort(out);
        }
        return out;
    }

    /** Up to {@code max} vectors drawn uniformly without replacement (selection sampling), and their weights. */
    record Sample(float[] points, float[] weights) {}

    static Sample sample(ClusterInput in, int group, int max, SplittableRandom random) {
        int cd = in.layout().clusterDim();
        long n = in.layout().vectorsPerGroup();
        int take = (int) Math.min(n, max);
        float[] points = new float[take * cd];
        float[] weights = new float[take * cd];
        PieceReader r = new PieceReader(in, PIECE);
        PieceCursor c = new PieceCursor(in.layout(), group, 0, n, PIECE);
        long seen = 0;
        int chosen = 0;
        while (c.next() && chosen < take) {
            r.read(c);
            for (int i = 0; i < c.length && chosen < take; i++, seen++) {
                // Knuth's Algorithm S: pick this one with probability (needed / remaining).
                if (random.nextLong(n - seen) < take - chosen) {
                    for (int t = 0; t < cd; t++) {
                        points[chosen * cd + t] = r.x[t * PIECE + i];
                        weights[chosen * cd + t] = r.w[t * PIECE + i];
                    }
                    chosen++;
                }
            }
        }
        return new Sample(points, weights);
    }
}
