package dev.palettizer.engine;

/**
 * One line of a palettization report. For copied tensors {@code reason} says why, and the error
 * fields are NaN. {@code warning}: what the run did differently from what was asked for this tensor
 * (a fast-mode fallback), or null; the CLI repeats it on stderr.
 */
public record TensorReport(String name, long[] shape, String dtype, boolean palettized, String reason,
                           int nBits, long elements, long bytesBefore, long bytesAfter, double snrDb, double sse,
                           double weightedSse, double seconds, String warning) {

    /** A line without a warning. */
    public TensorReport(String name, long[] shape, String dtype, boolean palettized, String reason, int nBits,
                        long elements, long bytesBefore, long bytesAfter, double snrDb, double sse, double weightedSse,
                        double seconds) {
        this(name, shape, dtype, palettized, reason, nBits, elements, bytesBefore, bytesAfter, snrDb, sse, weightedSse,
                seconds, null);
    }

    public double bitsPerWeight() {
        return elements == 0 ? 0 : 8.0 * bytesAfter / elements;
    }
}
