package dev.palettizer.examples.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Puts a {@link WeightTransform} between named DJL parameters and DJL's training step. Per step:
 * {@link #beforeForward()} keeps each parameter's master weights w and writes w_hat = f(w) into the
 * parameter; DJL runs its forward and backward passes, so the parameter's gradient is dL/dw_hat;
 * {@link #afterBackward()} replaces that gradient by the transform's dL/dw and writes w back; then
 * DJL's optimizer ({@code trainer.step()}) updates w with dL/dw, as if the layer held w and computed
 * with f(w). {@link #trainStep} is that sequence around DJL's own {@link EasyTrain#trainBatch}.
 *
 * <p>Values move by copy (DJL's full-slice assignment), never by aliasing a Java buffer into a
 * tensor, and every temporary NDArray is closed in the step that made it: the model's managers hold
 * as many arrays after a step as before it.
 */
public final class WeightHook {
    private final WeightTransform transform;
    private final Map<String, Parameter> parameters;
    /** w of the current step, by name. */
    private final Map<String, float[]> master = new LinkedHashMap<>();
    private final Map<String, float[]> scratch = new LinkedHashMap<>();
    /** True between beforeForward and afterBackward: the parameters hold w_hat, not w. */
    private boolean transformed;

    /**
     * @param parameters the parameters to transform, by the names the transform knows them by;
     *     each must already be initialised (its array allocated)
     */
    public WeightHook(WeightTransform transform, Map<String, Parameter> parameters) {
        if (parameters.isEmpty()) {
            throw new IllegalArgumentException("no parameters to transform");
        }
        this.transform = transform;
        this.parameters = new LinkedHashMap<>(parameters);
        this.parameters.forEach((name, p) -> {
            if (!p.isInitialized()) {
                throw new IllegalStateException("parameter " + name + " (" + p.getName()
                        + ") is not initialised; call trainer.initialize(inputShape) before binding the hook");
            }
            if (!p.requiresGradient()) {
                throw new IllegalArgumentException("parameter " + name + " (" + p.getName() + ") takes no gradient");
            }
            scratch.put(name, new float[Math.toIntExact(p.getArray().size())]);
        });
    }

    /** Keeps each parameter's w and writes f(w) into it. */
    public void beforeForward() {
        if (transformed) {
            throw new IllegalStateException("beforeForward twice without afterBackward: the parameters already hold w_hat");
        }
        parameters.forEach((name, p) -> {
            NDArray array = p.getArray();
            float[] w = array.toFloatArray();
            master.put(name, w);
            float[] wHat = scratch.get(name);
            transform.forward(name, w, wHat);
            write(array, wHat);
        });
        transformed = true;
    }

    /** Replaces each parameter's gradient dL/dw_hat by dL/dw and writes w back. */
    public void afterBackward() {
        requireTransformed("afterBackward");
        parameters.forEach((name, p) -> {
            NDArray array = p.getArray();
            float[] gradIn = scratch.get(name);
            try (NDArray gradient = array.getGradient()) {
                float[] gradOut = gradient.toFloatArray();
                transform.backward(name, gradOut, gradIn);
                write(gradient, gradIn);
            }
        });
        restore();
    }

    /**
     * One training step on {@code batch}: transform, DJL's {@link EasyTrain#trainBatch} (forward,
     * loss, backward, listeners), gradient mapping, {@code trainer.step()}, {@code transform.step()}.
     * If DJL fails mid-step the master weights are put back before the exception leaves.
     */
    public void trainStep(Trainer trainer, Batch batch) {
        requireOneDevice(trainer);
        beforeForward();
        try {
            EasyTrain.trainBatch(trainer, batch);
            afterBackward();
        } finally {
            if (transformed) {
                restore();
            }
        }
        trainer.step();
        transform.step();
    }

    /** The weights the trained model ships with ({@link WeightTransform#export}), by name (new arrays). */
    public Map<String, float[]> exported() {
        if (transformed) {
            throw new IllegalStateException("exported() inside a step: the parameters hold w_hat");
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        parameters.forEach((name, p) -> {
            float[] w = p.getArray().toFloatArray();
            float[] e = new float[w.length];
            transform.export(name, w, e);
            out.put(name, e);
        });
        return out;
    }

    /**
     * DJL computes with the parameter arrays themselves only on a single device that holds them; on
     * several devices its parameter store computes with copies this hook does not write.
     */
    private void requireOneDevice(Trainer trainer) {
        Device[] devices = trainer.getDevices();
        Device home = parameters.values().iterator().next().getArray().getDevice();
        if (devices.length != 1 || !devices[0].equals(home)) {
            throw new IllegalStateException("the weight hook needs the trainer on the one device that holds the parameters ("
                    + home + "), but it trains on " + Arrays.toString(devices) + "; set optDevices(new Device[] {" + home + "})");
        }
    }

    private void restore() {
        parameters.forEach((name, p) -> write(p.getArray(), master.get(name)));
        transformed = false;
    }

    private void requireTransformed(String call) {
        if (!transformed) {
            throw new IllegalStateException(call + " without beforeForward: the parameters hold w, not w_hat");
        }
    }

    /**
     * Copies {@code values} into the array's own storage (an in-place full-slice assignment: the
     * tensor keeps its identity, its gradient and the optimizer's state).
     */
    static void write(NDArray array, float[] values) {
        try (NDArray source = array.getManager().create(values, array.getShape())) {
            // ":" for every axis: DJL's full-slice path (torch index_put_ would reject an empty index)
            array.set(new NDIndex(String.join(",", Collections.nCopies(array.getShape().dimension(), ":"))), source);
        }
    }
}
