package dev.palettizer.engine;

/**
 * One line of a palettization report. For copied tensors {@code reason} says why, and the error
 * fields are NaN.
 */
public record TensorReport(String name, long[] shape, String dtype, boolean palettized, String reason,
                           int nBits, long elements, long bytesBefore, long bytesAfter, double snrDb, double sse,
                           double weightedSse, double seconds) {

    public double bitsPerWeight() {
        return elements == 0 ? 0 : 8.0 * bytesAfter / elements;
    }
}
