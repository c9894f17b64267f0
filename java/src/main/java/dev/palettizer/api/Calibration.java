package dev.palettizer.api;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Sensitivity calibration for a JVM trainer (the seed's {@code calibration_mode}): for each
 * calibration batch the trainer computes the loss gradients of the weights, without updating them,
 * and hands them in by tensor name. The squared gradients are summed per element in float, as the
 * seed's gradient hooks sum them in the weights' fp32; gradients of weights that are not palettized
 * are checked and dropped. {@link #close()} normalises the sums with the seed's rule
 * ({@code Sensitivities.normalize}) and recomputes those tensors' LUTs weighted by them; the result is
 * {@link KMeansPalettizer#prepared()}. Thread-safe.
 *
 * <pre>{@code
 * try (Calibration c = palettizer.calibrate()) {
 *     for (Batch b : calibrationSet) {
 *         c.addGradients(model.gradients(b));   // name -> dLoss/dW, same layout as the weight
 *     }
 * }
 * }</pre>
 */
public final class Calibration implements AutoCloseable {
    /** What the owner does when the calibration closes. */
    interface Finisher {
        void finish(Map<String, float[]> sumsOfSquares, long steps);

        void abandon();
    }

    private final Map<String, Long> lengths;
    private final Set<String> palettized;
    private final Finisher finisher;
    private final Map<String, float[]> sums = new LinkedHashMap<>();
    private long steps;
    private boolean closed;

    /**
     * @param lengths element count of every float weight, by name: the names gradients may have
     * @param palettized the weights whose squared gradients are kept
     */
    Calibration(Map<String, Long> lengths, Set<String> palettized, Finisher finisher) {
        this.lengths = Map.copyOf(lengths);
        this.palettized = Set.copyOf(palettized);
        this.finisher = finisher;
    }

    /**
     * Adds one tensor's gradient of one step; counts as a step.
     *
     * @throws IllegalArgumentException if the model has no float tensor of that name or the lengths differ
     */
    public synchronized Calibration addGradient(String name, float[] gradient) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(gradient, () -> "tensor '" + name + "': gradient is null");
        return addGradients(Map.of(name, gradient));
    }

    /**
     * Adds the gradients of one step, by tensor name; all are checked before any is added.
     *
     * @throws IllegalArgumentException if the map is empty, names a tensor the model lacks (or one that
     *     is not float), or a gradient's length differs from its weight's
     */
    public synchronized Calibration addGradients(Map<String, float[]> gradients) {
        if (closed) {
            throw new IllegalStateException("calibration is closed; open a new one with KMeansPalettizer.calibrate()");
        }
        if (gradients.isEmpty()) {
            throw new IllegalArgumentException("no gradients given: pass at least one tensor's gradient per step");
        }
        gradients.forEach(this::check);
        gradients.forEach((name, g) -> {
            if (palettized.contains(name)) {
                float[] sum = sums.computeIfAbsent(name, n -> new float[g.length]);
                for (int i = 0; i < g.length; i++) {
                    sum[i] += g[i] * g[i];
                }
            }
        });
        steps++;
        return this;
    }

    /** Steps added so far. */
    public synchronized long steps() {
        return steps;
    }

    private void check(String name, float[] gradient) {
        Objects.requireNonNull(gradient, () -> "tensor '" + name + "': gradient is null");
        Long expected = lengths.get(name);
        if (expected == null) {
            throw new IllegalArgumentException("tensor '" + name + "': the model has no float weight of this name"
                    + " (it has " + lengths.size() + ", e.g. " + lengths.keySet().stream().sorted().limit(3).toList() + ")");
        }
        if (gradient.length != expected) {
            throw new IllegalArgumentException("tensor '" + name + "': gradient holds " + gradient.length
                    + " values but the weight has " + expected + " elements");
        }
    }

    /**
     * Ends the calibration: normalises the summed squared gradients and recomputes the LUTs of the
     * weights that received any. Closing again does nothing.
     *
     * @throws IllegalStateException if no step was added (the palettized model stays as it was)
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (steps == 0) {
            finisher.abandon();
            throw new IllegalStateException("calibration received no gradients: call addGradients at least once"
                    + " (one call per calibration batch) before closing it");
        }
        finisher.finish(sums, steps);
    }

    @Override
    public synchronized String toString() {
        return "Calibration: " + steps + " steps, gradients for " + Arrays.toString(sums.keySet().toArray());
    }
}
