package dev.palettizer.backend;

/**
 * Host-side arguments of the DKM kernels (kernels/common/dkm_core.h), shared by the OpenCL and CUDA hosts:
 * the layout and parameter structs passed by value, the tile table of the per-point passes, and the
 * limits of the kernels' per-point rows.
 */
public final class DkmKernelArgs {
    /** DKM_MAX_K and DKM_MAX_DIM of dkm_core.h. */
    public static final int MAX_K = 256;
    public static final int MAX_DIM = 8;

    private DkmKernelArgs() {}

    /** dkm_layout: five longs. */
    public static long[] layout(DkmLayout l) {
        return new long[] {l.elements(), l.inner(), l.axisLen(), l.dim(), l.partitionChannels()};
    }

    /** dkm_params: six longs, the doubles as their raw bits. */
    public static long[] params(DkmParams p) {
        long mode = switch (p.mode()) {
            case DKM -> 0;
            case GSM -> 1;
            case HARD -> 2;
        };
        return new long[] {p.k(), mode, p.keepSparsity() ? 1 : 0, p.noiseKey(), Double.doubleToRawLongBits(p.tau()),
                Double.doubleToRawLongBits(p.prune())};
    }

    /** Fails with the reason when the kernels' per-point rows cannot hold this k or cluster_dim. */
    public static void requireSupported(String backend, DkmParams p) {
        if (p.k() > MAX_K || p.dim() > MAX_DIM) {
            throw new UnsupportedOperationException("the " + backend + " DKM kernels support k <= " + MAX_K
                    + " and cluster_dim <= " + MAX_DIM + ", got k " + p.k() + ", cluster_dim " + p.dim()
                    + "; use the java backend for this configuration");
        }
    }

    /** First tile of each partition (partitions + 1 entries, the last is the tile count): tiles of {@code tile} points. */
    public static long[] tileStarts(DkmLayout l, int tile) {
        int partitions = l.partitions();
        long[] starts = new long[partitions + 1];
        for (int p = 0; p < partitions; p++) {
            starts[p + 1] = starts[p] + (l.pointsIn(p) + tile - 1) / tile;
        }
        return starts;
    }

    /** The value-key kind of dkm_core.h (DKM_KEYS_F16, DKM_KEYS_BF16). */
    public static int keys(DkmPasses.ValueKeys keys) {
        return keys == DkmPasses.ValueKeys.F16 ? 0 : 1;
    }

    /** Per-value passes need cluster_dim 1 (as JavaDkmPasses). */
    public static void requireScalar(DkmLayout l) {
        if (l.dim() != 1) {
            throw new IllegalArgumentException("per-value passes need cluster_dim 1, got " + l.dim());
        }
    }
}
