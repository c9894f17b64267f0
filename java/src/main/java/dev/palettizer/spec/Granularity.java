package dev.palettizer.spec;

/** How many LUTs a tensor gets: one for the whole tensor, or one per group of channels. */
public sealed interface Granularity permits Granularity.PerTensor, Granularity.PerGroupedChannel {

    /** One LUT shared by every element of the tensor. */
    record PerTensor() implements Granularity {}

    /**
     * One LUT per {@code groupSize} consecutive channels along {@code axis} (0 = output channels,
     * 1 = input channels). A group size of 1 is per-channel palettization.
     */
    record PerGroupedChannel(int axis, int groupSize) implements Granularity {
        public PerGroupedChannel {
            if (axis != 0 && axis != 1) {
                throw new SpecException("granularity.axis must be 0 or 1, got " + axis);
            }
            if (groupSize < 1) {
                throw new SpecException("granularity.group_size must be >= 1, got " + groupSize
                        + " (use 1 for per-channel palettization)");
            }
        }
    }

    static Granularity perTensor() {
        return new PerTensor();
    }

    static Granularity perChannel(int axis) {
        return new PerGroupedChannel(axis, 1);
    }

    static Granularity grouped(int axis, int groupSize) {
        return new PerGroupedChannel(axis, groupSize);
    }
}
