package dev.palettizer.model;

import dev.palettizer.spec.PalettizationSpec;

/**
 * One palettized tensor: {@code groups} LUTs of {@code 2^nBits} entries of {@code clusterDim}
 * floats ({@code lut}, laid out [group][entry][component], already dequantized when the LUT is
 * quantized), one packed n-bit index per vector, optional per-output-channel scales, and optional
 * outliers stored exactly, which override the LUT value at their positions (dense-and-sparse).
 *
 * @param indexCount number of indices (elements / clusterDim)
 * @param packedIndices index i occupies bits [i*n, i*n+n) of the stream, least significant bit first
 * @param error reconstruction error with the outliers in place (their error is zero)
 * @param outliers the exact elements, or null for none
 */
public record PalettizedTensor(
        String name,
        PalettizationSpec spec,
        DType originalDType,
        long[] shape,
        int groups,
        float[] lut,
        QuantizedLut quantizedLut,
        byte[] packedIndices,
        long indexCount,
        float[] channelScales,
        ErrorStats error,
        SparseOutliers outliers) {

    public long elementCount() {
        return Shapes.elementCount(shape);
    }

    /** Bytes this tensor takes in the compressed file (LUT, indices, scales, outliers; not metadata). */
    public long compressedBytes() {
        long lutBytes = quantizedLut != null ? quantizedLut.codes().length + 8L : 4L * lut.length;
        long scaleBytes = channelScales == null ? 0 : 4L * channelScales.length;
        long outlierBytes = outliers == null ? 0 : outliers.storedBytes(elementCount(), originalDType);
        return lutBytes + packedIndices.length + scaleBytes + outlierBytes;
    }
}
