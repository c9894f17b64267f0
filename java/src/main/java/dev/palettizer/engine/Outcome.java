package dev.palettizer.engine;

import dev.palettizer.model.PalettizedTensor;

/** What happened to one tensor. */
public sealed interface Outcome permits Outcome.Palettized, Outcome.Skipped {
    String name();

    /** {@code note}: what the run did differently from what was asked (a fast-mode fallback), or null. */
    record Palettized(PalettizedTensor tensor, double seconds, String note) implements Outcome {
        public Palettized(PalettizedTensor tensor, double seconds) {
            this(tensor, seconds, null);
        }

        @Override
        public String name() {
            return tensor.name();
        }
    }

    /** Left as it is, with the reason (spec does not fit the shape, below the size threshold...). */
    record Skipped(String name, String reason) implements Outcome {}
}
