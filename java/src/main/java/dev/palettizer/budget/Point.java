package dev.palettizer.budget;

import dev.palettizer.spec.PalettizationSpec;
import java.util.Objects;

/**
 * One candidate of a tensor's rate-distortion curve.
 *
 * @param spec the spec it stands for
 * @param bytes what it stores (indices, LUTs, scales: {@code PalettizedTensor.compressedBytes()})
 * @param error its predicted output error (weighted SSE in the sensitivities' own units, else SSE)
 */
public record Point(PalettizationSpec spec, long bytes, double error) {
    public Point {
        Objects.requireNonNull(spec, "spec");
        if (bytes < 0 || !(error >= 0)) {
            throw new IllegalArgumentException("a candidate needs bytes >= 0 and a finite error >= 0, got " + bytes
                    + " bytes and error " + error);
        }
    }
}
