package dev.palettizer.quality;

/**
 * One line of the quality table.
 *
 * @param seconds palettization wall time, NaN for models not palettized here
 * @param agreement null when the model could not be produced (see note)
 */
record Row(String model, String bits, String granularity, String mode, long bytes, double seconds,
           Agreement agreement, String note) {}
