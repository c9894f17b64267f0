package dev.palettizer.engine;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One tensor's share of a {@link Progress}: the engine marks fractions of its work as done while it runs
 * (a large tensor can take minutes), and {@link #finish} reports the rest. Fractions only move forward.
 */
public final class TensorProgress {
    private final Progress sink;
    private final String tensor;
    private final long elements;
    private final AtomicLong reported = new AtomicLong();

    public TensorProgress(Progress sink, String tensor, long elements) {
        this.sink = sink;
        this.tensor = tensor;
        this.elements = elements;
    }

    /** A tracker that reports nothing, for single-tensor calls. */
    public static TensorProgress none(String tensor) {
        return new TensorProgress(Progress.NONE, tensor, 0);
    }

    /** Marks {@code fraction} (0 to 1) of the tensor's work as done, if that is further than before. */
    void reach(double fraction) {
        long target = (long) (Math.clamp(fraction, 0.0, 1.0) * elements);
        long before = reported.getAndAccumulate(target, Math::max);
        if (target > before) {
            sink.advance(tensor, target - before);
        }
    }

    /** Reports the tensor as finished, with whatever part was not reported yet. */
    public void finish() {
        sink.done(tensor, elements - reported.getAndSet(elements));
    }
}
