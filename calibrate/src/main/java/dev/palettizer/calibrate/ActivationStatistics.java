package dev.palettizer.calibrate;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Running statistics of the activations the covered weights read: per channel sums of x^2 (in double,
 * added in element order, sample after sample, so the same data gives the same bits) and per index
 * look-up counts. Then, per weight, the sensitivities in the weight's stored shape.
 */
final class ActivationStatistics {

    /** Which statistic of which tensor: channel energy along an axis, or index counts over {@code rows} rows. */
    private record Key(String tensor, int axis, long rows) {
        static Key of(WeightUse use, long[] weightShape) {
            return switch (use) {
                case WeightUse.Linear l -> new Key(l.activation(), l.activationAxis(), 0);
                case WeightUse.Conv c -> new Key(c.activation(), 1, 0);
                case WeightUse.Embedding e -> new Key(e.activation(), 0, weightShape[0]);
            };
        }

        boolean counts() {
            return rows > 0;
        }
    }

    /** Sum of x^2 per channel and the number of channel vectors seen. */
    private static final class Energy {
        double[] sums;
        long vectors;
    }

    private final Map<Key, Energy> energies = new LinkedHashMap<>();
    private final Map<Key, long[]> counts = new LinkedHashMap<>();
    private final Map<Key, String> readers = new LinkedHashMap<>();

    ActivationStatistics(List<GraphWeights.Covered> weights) {
        for (GraphWeights.Covered w : weights) {
            for (WeightUse use : w.uses()) {
                Key key = Key.of(use, w.shape());
                if (key.counts()) {
                    counts.computeIfAbsent(key, k -> new long[Math.toIntExact(k.rows())]);
                } else {
                    energies.computeIfAbsent(key, k -> new Energy());
                }
                readers.putIfAbsent(key, use.node());
            }
        }
    }

    /** Adds one run's float values of {@code tensor} (row-major, shape {@code dims}) to its channel statistics. */
    void addValues(String tensor, long[] dims, float[] values) {
        for (Map.Entry<Key, Energy> e : energies.entrySet()) {
            if (!e.getKey().tensor().equals(tensor)) {
                continue;
            }
            int axis = e.getKey().axis() < 0 ? dims.length + e.getKey().axis() : e.getKey().axis();
            if (axis < 0 || axis >= dims.length) {
                throw new CalibrationException("activation '" + tensor + "' read by " + readers.get(e.getKey())
                        + " has shape " + GraphWeights.describe(dims) + ", which has no channel axis " + e.getKey().axis());
            }
            int channels = Math.toIntExact(dims[axis]);
            long inner = 1;
            for (int d = axis + 1; d < dims.length; d++) {
                inner *= dims[d];
            }
            Energy energy = e.getValue();
            if (energy.sums == null) {
                energy.sums = new double[channels];
            } else if (energy.sums.length != channels) {
                throw new CalibrationException("activation '" + tensor + "' read by " + readers.get(e.getKey())
                        + " has " + channels + " channels on axis " + axis + " in this run but " + energy.sums.length
                        + " before (shape " + GraphWeights.describe(dims) + ")");
            }
            double[] sums = energy.sums;
            long outer = values.length / (channels * inner);
            int at = 0;
            for (long o = 0; o < outer; o++) {
                for (int c = 0; c < channels; c++) {
                    double s = 0;
                    for (long i = 0; i < inner; i++, at++) {
                        double x = values[at];
                        s += x * x;
                    }
                    sums[c] += s;
                }
            }
            energy.vectors += outer * inner;
        }
    }

    /** Adds one run's indices of {@code tensor} to its look-up counts. */
    void addIndices(String tensor, long[] indices) {
        for (Map.Entry<Key, long[]> e : counts.entrySet()) {
            if (!e.getKey().tensor().equals(tensor)) {
                continue;
            }
            long[] c = e.getValue();
            for (long index : indices) {
                long row = index < 0 ? index + c.length : index;
                if (row < 0 || row >= c.length) {
                    throw new CalibrationException("index " + index + " in '" + tensor + "' read by "
                            + readers.get(e.getKey()) + " is outside the table's " + c.length + " rows");
                }
                c[(int) row]++;
            }
        }
    }

    /** Whether {@code tensor} is read as indices (integers) rather than values. */
    boolean readsIndices(String tensor) {
        return counts.keySet().stream().anyMatch(k -> k.tensor().equals(tensor));
    }

    /** Whether {@code tensor} is read as values. */
    boolean readsValues(String tensor) {
        return energies.keySet().stream().anyMatch(k -> k.tensor().equals(tensor));
    }

    /**
     * The sensitivities of {@code weight} in its stored shape: for a linear or conv weight E[x_j^2] of its input
     * channel j, summed over its uses (each use adds its own output error); for an embedding table the
     * smoothed look-up frequency (count + 1) / (lookups + rows), summed over its uses.
     */
    float[] sensitivities(GraphWeights.Covered weight) {
        long[] shape = weight.shape();
        int size = Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact));
        double[] s = new double[size];
        for (WeightUse use : weight.uses()) {
            Key key = Key.of(use, shape);
            switch (use) {
                case WeightUse.Linear l -> addLinear(s, shape, l, perChannel(key, weight, shape[l.weightInAxis()]));
                case WeightUse.Conv c -> addConv(s, shape, c, perChannel(key, weight, shape[1] * c.group()));
                case WeightUse.Embedding e -> addEmbedding(s, shape, counts.get(key));
            }
        }
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            out[i] = (float) s[i];
        }
        return out;
    }

    private double[] perChannel(Key key, GraphWeights.Covered weight, long expected) {
        Energy energy = energies.get(key);
        if (energy.sums == null || energy.vectors == 0) {
            throw new CalibrationException("activation '" + key.tensor() + "' of weight '" + weight.name()
                    + "' was never computed: no sample reached " + readers.get(key));
        }
        if (energy.sums.length != expected) {
            throw new CalibrationException("activation '" + key.tensor() + "' has " + energy.sums.length
                    + " channels but weight '" + weight.name() + "' " + GraphWeights.describe(weight.shape())
                    + " expects " + expected + " input channels");
        }
        double[] mean = new double[energy.sums.length];
        for (int c = 0; c < mean.length; c++) {
            mean[c] = energy.sums[c] / energy.vectors;
        }
        return mean;
    }

    private static void addLinear(double[] s, long[] shape, WeightUse.Linear l, double[] mean) {
        int rows = (int) shape[0];
        int cols = (int) shape[1];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                s[r * cols + c] += mean[l.weightInAxis() == 0 ? r : c];
            }
        }
    }

    private static void addConv(double[] s, long[] shape, WeightUse.Conv c, double[] mean) {
        long out = shape[0];
        long inPerGroup = shape[1];
        long kernel = s.length / (out * inPerGroup);
        long outPerGroup = out / c.group();
        int at = 0;
        for (long o = 0; o < out; o++) {
            long first = (o / outPerGroup) * inPerGroup;
            for (long i = 0; i < inPerGroup; i++) {
                double m = mean[(int) (first + i)];
                for (long k = 0; k < kernel; k++, at++) {
                    s[at] += m;
                }
            }
        }
    }

    private static void addEmbedding(double[] s, long[] shape, long[] count) {
        long total = 0;
        for (long c : count) {
            total += c;
        }
        int rowSize = s.length / (int) shape[0];
        double denominator = total + count.length;
        for (int r = 0; r < count.length; r++) {
            double f = (count[r] + 1) / denominator;
            for (int i = r * rowSize; i < (r + 1) * rowSize; i++) {
                s[i] += f;
            }
        }
    }
}
