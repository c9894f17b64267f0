package dev.palettizer.budget;

/**
 * What the budget chose for one tensor.
 *
 * @param name the tensor
 * @param elements its weight count
 * @param chosen the chosen candidate (spec, stored bytes, predicted error)
 * @param candidates how many candidates its curve had
 * @param hullPoints how many of them lie on its lower convex hull
 * @param weighted whether the tensor has sensitivities (its error is then the engine's weighted SSE, on
 *     sensitivities normalised to at most 1, else its plain SSE)
 * @param errorScale what that SSE is multiplied by to give the {@link ErrorMeasure}'s error
 */
public record TensorChoice(String name, long elements, Point chosen, int candidates, int hullPoints,
                           boolean weighted, double errorScale) {
    /** The error of an engine result for this tensor in the same units as the prediction. */
    public double error(double sse, double weightedSse) {
        return (weighted ? weightedSse : sse) * errorScale;
    }
}
