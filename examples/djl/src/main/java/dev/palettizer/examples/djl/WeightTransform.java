package dev.palettizer.examples.djl;

/**
 * A differentiable map from a layer's master weights w to the weights the layer computes with,
 * w_hat = f(w), applied per named weight tensor (flat, in the framework's row-major layout).
 * Training-time palettization (DKM) is one: its w_hat is the soft-palettized weight. The trainer
 * keeps w; {@link WeightHook} puts w_hat in the layer for the forward pass and turns the gradient
 * with respect to w_hat into the gradient with respect to w for the optimizer.
 *
 * <p>Per training step the hook calls {@link #forward} for every bound weight, then (after the
 * framework's backward pass) {@link #backward} for each, then the optimizer steps, then
 * {@link #step()} once, as coremltools' palettizer.step() follows optimizer.step().
 */
public interface WeightTransform {
    /** Ends one training step (a transform that starts at a milestone counts these). */
    void step();

    /**
     * Writes w_hat = f(w) into {@code out}.
     *
     * @param name the weight's name, e.g. fc1.weight
     * @param w the master weights (not modified)
     * @param out w_hat, as long as {@code w} (modified)
     */
    void forward(String name, float[] w, float[] out);

    /**
     * Writes dL/dw into {@code gradIn}, given dL/dw_hat, for the w of the latest {@link #forward} of
     * {@code name}.
     *
     * @param gradOut dL/dw_hat (not modified)
     * @param gradIn dL/dw, as long as {@code gradOut} (modified)
     */
    void backward(String name, float[] gradOut, float[] gradIn);

    /**
     * Writes the weights the trained model is evaluated and shipped with into {@code out}: by default
     * f(w); a palettizing transform overrides it with its hardened LUT[indices].
     */
    default void export(String name, float[] w, float[] out) {
        forward(name, w, out);
    }

    /** One of a transform's per-tensor maps: reads {@code in}, writes {@code out} (as long as in). */
    @FunctionalInterface
    interface ArrayMap {
        void apply(String name, float[] in, float[] out);
    }

    /**
     * A transform from its parts, e.g. a palettizer's methods:
     * {@code WeightTransform.of(dkm::step, dkm::forward, dkm::backward, dkm::export)}.
     */
    static WeightTransform of(Runnable step, ArrayMap forward, ArrayMap backward, ArrayMap export) {
        return new WeightTransform() {
            @Override
            public void step() {
                step.run();
            }

            @Override
            public void forward(String name, float[] w, float[] out) {
                forward.apply(name, w, out);
            }

            @Override
            public void backward(String name, float[] gradOut, float[] gradIn) {
                backward.apply(name, gradOut, gradIn);
            }

            @Override
            public void export(String name, float[] w, float[] out) {
                export.apply(name, w, out);
            }
        };
    }

    /** w_hat = w, gradient unchanged: the plain fp32 training. */
    static WeightTransform identity() {
        return Identity.INSTANCE;
    }

    /** The identity as a named singleton, so its toString says what it is. */
    enum Identity implements WeightTransform {
        INSTANCE;

        @Override
        public void step() {}

        @Override
        public void forward(String name, float[] w, float[] out) {
            System.arraycopy(w, 0, out, 0, w.length);
        }

        @Override
        public void backward(String name, float[] gradOut, float[] gradIn) {
            System.arraycopy(gradOut, 0, gradIn, 0, gradOut.length);
        }
    }
}
