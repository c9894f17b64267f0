package dev.palettizer.backend;

import java.util.Arrays;

/**
 * Collects (value, weight) pairs that arrive in ascending value order into {@link WeightedValues}:
 * equal values are folded into one, and zero weights are dropped (they do not affect the objective).
 */
public final class DistinctValuesBuilder {
    private final double[] values;
    private final double[] weights;
    private int n;

    public DistinctValuesBuilder(int capacity) {
        values = new double[capacity];
        weights = new double[capacity];
    }

    public void add(float value, double weight) {
        if (weight == 0) {
            return;
        }
        if (n > 0 && values[n - 1] == value) {
            weights[n - 1] += weight;
        } else {
            values[n] = value;
            weights[n++] = weight;
        }
    }

    /** The collected values; the builder must not be used afterwards (its arrays may be handed over). */
    public WeightedValues build() {
        if (n == values.length) {
            return new WeightedValues(values, weights);
        }
        return new WeightedValues(Arrays.copyOf(values, n), Arrays.copyOf(weights, n));
    }

    /**
     * The distinct values of {@code groups} groups sorted on a device, {@code perGroup} (value, weight)
     * pairs each, one group after another, into {@code out[outFrom...]}.
     */
    public static void fromSortedGroups(float[] values, double[] weights, int perGroup, int groups,
                                        WeightedValues[] out, int outFrom) {
        for (int g = 0; g < groups; g++) {
            DistinctValuesBuilder b = new DistinctValuesBuilder(perGroup);
            for (int j = g * perGroup; j < (g + 1) * perGroup; j++) {
                b.add(values[j], weights[j]);
            }
            out[outFrom + g] = b.build();
        }
    }

    /** The distinct values of a dense histogram (summed weight per 16-bit pattern of {@code key}). */
    public static WeightedValues fromDense(double[] hist, ValueKey key) {
        int used = 0;
        for (double h : hist) {
            used += h != 0 ? 1 : 0;
        }
        float[] patternValues = key.patternValues();
        DistinctValuesBuilder out = new DistinctValuesBuilder(used);
        for (int p : FloatOrder.of(key)) {
            // Empty bins are most of a group's 65,536: skip them before the lookup (add would drop them too).
            if (hist[p] != 0) {
                out.add(patternValues[p], hist[p]);
            }
        }
        return out.build();
    }

    /**
     * Dense histograms folded on a device (the kernels' pal_fold): per group g, {@code distinct[g]}
     * distinct values with their summed weights, groups back to back, into {@code out[outFrom...]};
     * the same result as {@link #fromDense} of the full histograms.
     */
    public static void fromFolded(int[] distinct, float[] values, double[] weights, WeightedValues[] out, int outFrom) {
        int j = 0;
        for (int g = 0; g < distinct.length; g++) {
            double[] v = new double[distinct[g]];
            for (int i = 0; i < v.length; i++) {
                v[i] = values[j + i];
            }
            out[outFrom + g] = new WeightedValues(v, Arrays.copyOfRange(weights, j, j + v.length));
            j += v.length;
        }
    }
}
