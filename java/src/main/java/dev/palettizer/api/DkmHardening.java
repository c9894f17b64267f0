package dev.palettizer.api;

import dev.palettizer.api.ModelWeights.Weight;
import dev.palettizer.backend.Backend;
import dev.palettizer.backend.DkmLayout;
import dev.palettizer.dkm.DkmWeight;
import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.DkmSpec;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import java.util.Arrays;

/**
 * Turns a weight's hard DKM result (LUTs and nearest-centroid indices) into the
 * {@link PalettizedTensor} every export format writes, in the engine's orientation and index order
 * ({@link GroupLayout}). The LUT is stored as floats already on the cluster_dtype grid (an i8/u8 LUT is
 * not stored as codes). Layouts the compressed format cannot express are refused, naming the weight.
 */
final class DkmHardening {
    private DkmHardening() {}

    /** Index width for k centroids: the smallest bit count the format allows that holds k. */
    static int bitsFor(int k) {
        int need = 32 - Integer.numberOfLeadingZeros(k - 1);
        for (int b : new int[] {1, 2, 3, 4, 6, 8}) {
            if (b >= need) {
                return b;
            }
        }
        throw new SpecException(k + " centroids need more than 8 index bits");
    }

    /** The palettized tensor of {@code values} (stored order) under {@code dkm}'s current LUTs. */
    static PalettizedTensor harden(Weight w, DkmWeight dkm, float[] values, Backend packer) {
        DkmSpec d = dkm.spec();
        DkmLayout l = dkm.layout();
        int axis = d.clusterPermute().isEmpty() ? 0 : d.clusterPermute().getFirst();
        int partitions = l.partitions();
        int dim = d.clusterDim();
        if (partitions > 1 && axis > 1 || dim > 1 && axis != 0) {
            throw new SpecException(w.name() + ": not supported: finalizing DKM partitions along axis " + axis
                    + (dim > 1 ? " with cluster_dim " + dim : "") + "; the compressed format groups channels along axis 0"
                    + " or 1 and runs vectors along axis 0 (cluster_permute starting with 0 or 1, cluster_dim 1 off axis 0)");
        }
        if (w.transposed() && (partitions > 1 || dim > 1)) {
            throw new SpecException(w.name() + ": not supported: finalizing a transposed (MatMul [in, out]) weight"
                    + " with DKM partitions or cluster_dim > 1; use one partition and cluster_dim 1");
        }
        int k = d.lutSize();
        int bits = bitsFor(k);
        int entries = 1 << bits;
        Granularity g = partitions == 1 ? Granularity.perTensor()
                : new Granularity.PerGroupedChannel(axis, Math.toIntExact(l.partitionChannels()));
        PalettizationSpec spec = PalettizationSpec.defaults().withBits(bits).withClusterDim(dim).withGranularity(g);
        long[] shape = w.engineShape();
        GroupLayout layout = GroupLayout.of(shape, spec).layout().orElseThrow(() -> new SpecException(w.name()
                + ": not supported: the DKM layout does not map onto the compressed format for shape " + Arrays.toString(shape)));

        int[] elementIndex = new int[values.length];
        float[][] luts = dkm.harden(values, elementIndex);
        // Unused entries past k repeat the last centroid, so every index the format can hold decodes.
        float[] lut = new float[partitions * entries * dim];
        for (int p = 0; p < partitions; p++) {
            for (int e = 0; e < entries; e++) {
                System.arraycopy(luts[p], Math.min(e, k - 1) * dim, lut, (p * entries + e) * dim, dim);
            }
        }
        double sse = 0;
        double energy = 0;
        for (int i = 0; i < values.length; i++) {
            float c = luts[l.partitionOfElement(i)][elementIndex[i] * dim + l.componentOfElement(i)];
            double diff = (double) values[i] - c;
            sse += diff * diff;
            energy += (double) values[i] * values[i];
        }
        byte[] stream = indexStream(w, layout, elementIndex);
        byte[] packed = packer.pack(stream, layout.vectorCount(), bits);
        return new PalettizedTensor(w.name(), spec, w.dtype(), shape, partitions, lut, null, packed, layout.vectorCount(),
                null, new ErrorStats(sse, sse, energy, values.length), null);
    }

    /** Writes each element's nearest centroid (component) under {@code dkm}'s current LUTs into {@code out}. */
    static void decode(DkmWeight dkm, float[] values, float[] out) {
        DkmLayout l = dkm.layout();
        int dim = dkm.spec().clusterDim();
        int[] index = new int[values.length];
        float[][] luts = dkm.harden(values, index);
        for (int i = 0; i < values.length; i++) {
            out[i] = luts[l.partitionOfElement(i)][index[i] * dim + l.componentOfElement(i)];
        }
    }

    /** One index per vector in the format's stream order: vector (row r, offset o) at (r / dim) * rowStride + o. */
    private static byte[] indexStream(Weight w, GroupLayout layout, int[] elementIndex) {
        byte[] stream = new byte[Math.toIntExact(layout.vectorCount())];
        int dim = layout.clusterDim();
        long rowStride = layout.rowStride();
        if (w.transposed()) {
            long rows = layout.rows();
            long cols = layout.cols();
            // Engine element (r, c) is stored element (c, r).
            for (long r = 0; r < rows; r++) {
                for (long c = 0; c < cols; c++) {
                    stream[(int) (r * cols + c)] = (byte) elementIndex[(int) (c * rows + r)];
                }
            }
            return stream;
        }
        for (long v = 0; v < stream.length; v++) {
            long row = v / rowStride * dim;
            long offset = v % rowStride;
            stream[(int) v] = (byte) elementIndex[(int) (row * rowStride + offset)];
        }
        return stream;
    }
}
