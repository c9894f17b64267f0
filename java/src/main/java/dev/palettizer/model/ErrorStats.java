package dev.palettizer.model;

/**
 * Reconstruction error of one tensor: plain and sensitivity-weighted sums of squared errors,
 * and the signal energy (sum of squares of the original) for the SNR.
 */
public record ErrorStats(double sse, double weightedSse, double signalEnergy, long count) {
    public static final ErrorStats ZERO = new ErrorStats(0, 0, 0, 0);

    /** Signal-to-noise ratio in dB; +Infinity for an exact reconstruction. */
    public double snrDb() {
        if (sse == 0) {
            return Double.POSITIVE_INFINITY;
        }
        return 10 * Math.log10(signalEnergy / sse);
    }

    public ErrorStats plus(ErrorStats o) {
        return new ErrorStats(sse + o.sse, weightedSse + o.weightedSse, signalEnergy + o.signalEnergy, count + o.count);
    }
}
