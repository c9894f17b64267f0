package dev.palettizer.budget;

/**
 * What the budget chose for one tensor.
 *
 * @param name the tensor
 * @param elements its weight count
 * @param chosen the chosen candidate (spec, stored bytes, predicted error)
 * @param candidates how many candidates its curve had
 * @param hullPoints how many of them lie on its lower convex hull
 * @param errorScale the largest raw sensitivity: the engine's weighted SSE (on sensitivities normalised
 *     to at most 1) times this is the error in the raw sensitivities' units; NaN when the tensor has no
 *     sensitivities and its error is the plain SSE
 */
public record TensorChoice(String name, long elements, Point chosen, int candidates, int hullPoints,
                           double errorScale) {
    public boolean weighted() {
        return !Double.isNaN(errorScale);
    }

    /** The error of an engine result for this tensor in the same units as the prediction. */
    public double error(double sse, double weightedSse) {
        return weighted() ? weightedSse * errorScale : sse;
    }
}
