package dev.palettizer.calibrate;

/**
 * How one node uses a weight initializer, and which activation statistic gives the weight's
 * per-element sensitivity there. A weight consumed by several nodes has one use per node.
 */
sealed interface WeightUse {

    /** The node that consumes the weight, for messages: {@code MatMul '/encoder/layer.0/.../MatMul'}. */
    String node();

    /** The tensor whose values the statistic is taken from. */
    String activation();

    /**
     * A linear map (MatMul, Gemm): the output error of a weight change dW is sum_j E[x_j^2] |dW_j|^2 on the
     * diagonal, with j the weight's input channel, i.e. index {@code weightInAxis} of the 2-D weight.
     *
     * @param activationAxis the activation's channel axis; negative counts from the last
     */
    record Linear(String node, String activation, int activationAxis, int weightInAxis) implements WeightUse {}

    /**
     * A convolution: X [N, C, spatial...] and W [O, C / group, kernel...]; input channel c of group g feeds
     * the output channels of that group. E[x_c^2] is taken over batch and positions (the kernel offsets see
     * the same positions except at padded borders).
     */
    record Conv(String node, String activation, long group) implements WeightUse {}

    /**
     * A Gather on axis 0 (an embedding table): the output error is sum_v count(v) |dW_v|^2 over the looked-up
     * rows v, so the exact diagonal is the row's frequency; add-one smoothing keeps rows the calibration data
     * never looked up in the objective (with a weight of one occurrence) instead of dropping them.
     */
    record Embedding(String node, String activation) implements WeightUse {}

    /** Whether two uses' statistics measure the same thing (output error per element) and may be summed. */
    default boolean sameFamily(WeightUse other) {
        return (this instanceof Embedding) == (other instanceof Embedding);
    }
}
