package dev.palettizer.backend;

/** Distinct values of one group in ascending order, each with the summed weight of its elements. */
public record WeightedValues(double[] values, double[] weights) {
    public int size() {
        return values.length;
    }

    public double totalWeight() {
        double t = 0;
        for (double w : weights) {
            t += w;
        }
        return t;
    }
}
