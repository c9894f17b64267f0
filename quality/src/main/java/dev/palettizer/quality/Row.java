package dev.palettizer.quality;

/**
 * One line of the quality table.
 *
 * @param bitsPerWeight everything stored for the palettized weights (the file less the initializers kept as they
 *     were: indices, LUTs, scales, the expansion nodes, metadata and the rest of the graph) per palettized
 *     weight; NaN for models not palettized here
 * @param seconds palettization wall time, NaN for models not palettized here
 * @param calibrationSeconds wall time of the calibration run that gave the sensitivities, NaN without one
 * @param agreement null when the model could not be produced (see note)
 */
record Row(String model, String bits, String granularity, String mode, long bytes, double bitsPerWeight,
           double seconds, double calibrationSeconds, Agreement agreement, String note) {

    /** A model not palettized here (the reference, the shipped int8 model). */
    static Row given(String model, String bits, String granularity, String mode, long bytes, Agreement agreement,
                     String note) {
        return new Row(model, bits, granularity, mode, bytes, Double.NaN, Double.NaN, Double.NaN, agreement, note);
    }
}
