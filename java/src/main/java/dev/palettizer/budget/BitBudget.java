package dev.palettizer.budget;

import dev.palettizer.spec.SpecException;

/**
 * An average size budget: bits per palettized weight, counting everything stored (indices, LUTs,
 * scales, format metadata and the file's own structure), as the README's bits/weight column does.
 *
 * @param targetBits in [{@link #MIN_BITS}, {@link #MAX_BITS}]
 * @param measure what the allocation minimises
 */
public record BitBudget(double targetBits, ErrorMeasure measure) {
    /** 1 bit is the smallest index; above 8 every tensor could take the largest allowed width anyway. */
    public static final double MIN_BITS = 1;
    public static final double MAX_BITS = 8;

    public BitBudget {
        java.util.Objects.requireNonNull(measure, "measure");
        if (!(targetBits >= MIN_BITS && targetBits <= MAX_BITS)) {
            throw new SpecException("target_bits must be a number in [1, 8] (average bits per palettized weight,"
                    + " everything stored), got " + targetBits + "; e.g. 4.5");
        }
    }

    /** A budget that minimises the {@link ErrorMeasure#RELATIVE} error (the default: see the README's MiniLM rows). */
    public BitBudget(double targetBits) {
        this(targetBits, ErrorMeasure.RELATIVE);
    }

    /** {@code weights} palettized weights at this budget, in whole bytes (rounded down). */
    public long bytesFor(long weights) {
        return (long) Math.floor(targetBits * weights / 8);
    }

    @Override
    public String toString() {
        return targetBits + " bits per weight (" + measure.label() + " error)";
    }
}
