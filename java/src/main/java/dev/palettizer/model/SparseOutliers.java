package dev.palettizer.model;

import java.util.Objects;

/**
 * The sparse half of a dense-and-sparse tensor: elements kept out of the clustering and stored
 * exactly. Positions are flat row-major element indices of the tensor in the engine's orientation,
 * strictly ascending; each value is exactly representable in the tensor's original dtype, so a
 * file stores it there without rounding.
 */
public record SparseOutliers(long[] positions, float[] values) {
    public SparseOutliers {
        Objects.requireNonNull(positions, "positions");
        Objects.requireNonNull(values, "values");
        if (positions.length != values.length) {
            throw new IllegalArgumentException("outliers: " + positions.length + " positions but " + values.length
                    + " values");
        }
    }

    public int count() {
        return positions.length;
    }

    /**
     * The first broken rule for a tensor of {@code elements} elements, or null: positions within
     * range, strictly ascending (so none twice); readers name the field when it is not null.
     */
    public String positionProblem(long elements) {
        long previous = -1;
        for (int i = 0; i < positions.length; i++) {
            long p = positions[i];
            if (p < 0 || p >= elements) {
                return "position[" + i + "] = " + p + " is outside the tensor's " + elements + " elements";
            }
            if (p <= previous) {
                return "position[" + i + "] = " + p + (p == previous ? " repeats" : " is below")
                        + " position[" + (i - 1) + "] = " + previous + "; positions must be strictly ascending";
            }
            previous = p;
        }
        return null;
    }

    /** Whether every position fits in an int32 (then files store them as I32, else I64). */
    public static boolean int32Positions(long elements) {
        return elements <= Integer.MAX_VALUE;
    }

    /** Bytes stored for the list: positions (4 or 8 each) and values in {@code dtype}. */
    public long storedBytes(long elements, DType dtype) {
        return (long) count() * ((int32Positions(elements) ? 4 : 8) + dtype.byteSize());
    }

    /** Writes the exact values over a dense reconstruction of the tensor (row-major, engine orientation). */
    public void applyTo(float[] dense) {
        for (int i = 0; i < positions.length; i++) {
            dense[Math.toIntExact(positions[i])] = values[i];
        }
    }
}
