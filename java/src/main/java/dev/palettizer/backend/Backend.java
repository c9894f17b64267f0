package dev.palettizer.backend;

import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.GroupLayout;

/**
 * The data-parallel steps of palettization, each over all groups of a tensor at once. The engine
 * does the small host-side work (optimal 1-D k-means on the histogram, k-means++ seeding, LUT
 * quantization) and never knows which implementation runs these.
 *
 * <p>Every implementation must give the Java reference's results on the same inputs: same
 * histogram values, same indices, sums equal within floating-point reduction order.
 */
public interface Backend extends AutoCloseable {

    String name();

    /**
     * For groups {@code fromGroup} (inclusive) to {@code toGroup} (exclusive), the distinct keyed
     * values of each group's (scaled) elements with their summed weights. Scalars only. The engine
     * asks for a batch of groups at a time, so that only a bounded number of histograms is alive.
     */
    WeightedValues[] histogram(ClusterInput in, ValueKey key, int fromGroup, int toGroup);

    /**
     * Writes the nearest LUT entry of every vector to {@code indices} (by stream position) and
     * returns the reconstruction error.
     *
     * @param lut [group][entry][component], entries of each group sorted ascending when clusterDim == 1
     * @param lutSize entries per group (2^nBits)
     */
    ErrorStats assign(ClusterInput in, float[] lut, int lutSize, byte[] indices);

    /** Per group and entry, the weighted sums of the vectors assigned to it (Lloyd's update step). */
    CentroidSums centroidSums(ClusterInput in, byte[] indices, int lutSize);

    /** Packs {@code count} indices of {@code bits} bits each, LSB first. */
    byte[] pack(byte[] indices, long count, int bits);

    /** Inverse of {@link #pack}. */
    byte[] unpack(byte[] packed, long count, int bits);

    /** Dense tensor from LUT, indices and optional channel scales, in row-major element order. */
    default float[] reconstruct(GroupLayout layout, float[] lut, int lutSize, byte[] indices, float[] channelScales) {
        float[] out = new float[Math.toIntExact(layout.elementCount())];
        reconstruct(layout, lut, lutSize, indices, channelScales, out);
        return out;
    }

    /**
     * {@link #reconstruct(GroupLayout, float[], int, byte[], float[])} into {@code out}, which must hold
     * exactly the tensor's elements; every one of them is written. Callers that rebuild tensors repeatedly
     * reuse one buffer instead of allocating and zeroing a fresh one per call.
     */
    void reconstruct(GroupLayout layout, float[] lut, int lutSize, byte[] indices, float[] channelScales, float[] out);

    /** Rejects a reconstruction buffer that is not exactly the tensor's size. */
    static void checkReconstructOutput(GroupLayout layout, float[] out) {
        if (out.length != layout.elementCount()) {
            throw new IllegalArgumentException("reconstruction buffer holds " + out.length + " floats, the tensor has "
                    + layout.elementCount() + " elements; pass a buffer of that size");
        }
    }

    /**
     * The per-element passes of training-time DKM palettization on this backend's device: made on first
     * use, the same object on every later call, owned by the backend and closed with it.
     */
    DkmPasses dkmPasses();

    @Override
    default void close() {}
}
