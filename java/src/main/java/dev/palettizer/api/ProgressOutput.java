package dev.palettizer.api;

import dev.palettizer.engine.Progress;
import java.util.Objects;

/** Where the facade reports palettization progress: a bar on stderr, or a listener (e.g. {@link Progress#NONE}). */
public sealed interface ProgressOutput {
    /** One bar on stderr that advances once per tensor, as the seed's per-layer bar does. */
    ProgressOutput CONSOLE = new Console();
    /** Nothing reported. */
    ProgressOutput NONE = new Listener(Progress.NONE);

    record Console() implements ProgressOutput {}

    /** Calls from several worker threads at once. */
    record Listener(Progress progress) implements ProgressOutput {
        public Listener {
            Objects.requireNonNull(progress, "progress");
        }
    }
}
