package dev.palettizer.spec;

/** How many LUTs a tensor gets: one for the whole tensor, or one per group of channels. */
public sealed interface Granularity permits Granularity.PerTensor, Granularity.PerGroupedChannel {

    /** One LUT shared by every element of the tensor. */
    record PerTensor() implements Granularity {}

    /**
     * One LUT per {@code groupSize} consecutive channels along {@code axis} (0 = output channels,
     * 1 = input channels). A group size of 1 is per-channel palettization.
     *
     * @param raggedLast whether a tensor whose channels group_size does not divide still gets
     *     groups, the last one smaller (ceil(channels / group_size) LUTs); otherwise such tensors are
     *     left as they are. Output channels (axis 0) only: there each group is a block of whole rows.
     */
    record PerGroupedChannel(int axis, int groupSize, boolean raggedLast) implements Granularity {
        public PerGroupedChannel {
            if (axis != 0 && axis != 1) {
                throw new SpecException("granularity.axis must be 0 or 1, got " + axis);
            }
            if (groupSize < 1) {
                throw new SpecException("granularity.group_size must be >= 1, got " + groupSize
                        + " (use 1 for per-channel palettization)");
            }
            if (raggedLast && axis != 0) {
                throw new SpecException("a ragged last group is not supported along axis " + axis
                        + " (input channels); use axis 0, or drop allow_ragged_last_group / --ragged-last-group");
            }
        }

        public PerGroupedChannel(int axis, int groupSize) {
            this(axis, groupSize, false);
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

    /** Groups along axis 0 whose last one may be smaller when {@code groupSize} does not divide the rows. */
    static Granularity groupedRagged(int groupSize) {
        return new PerGroupedChannel(0, groupSize, true);
    }
}
