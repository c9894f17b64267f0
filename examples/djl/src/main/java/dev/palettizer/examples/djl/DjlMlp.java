package dev.palettizer.examples.djl;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import dev.palettizer.examples.Dataset;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A multilayer perceptron in DJL on the PyTorch engine (CPU): Linear layers with ReLU between them,
 * softmax cross-entropy, trained by DJL's {@link Trainer}. Linear layer l is known as {@code fc<l+1>}
 * (weight [out, in], bias [out], PyTorch's layout), the names the palettizer and a
 * {@link WeightTransform} see. Owns its model, trainer and arrays: close it.
 */
public final class DjlMlp implements AutoCloseable {
    private final int[] sizes;
    private final Model model;
    private final Trainer trainer;
    private final Map<String, Parameter> parameters = new LinkedHashMap<>();

    /**
     * A freshly initialised MLP for layer sizes {@code [in, hidden..., out]}, its weights drawn from
     * the engine's generator seeded with {@code seed}, trained with {@code optimizer}.
     */
    public DjlMlp(int seed, Optimizer optimizer, int... sizes) {
        if (sizes.length < 2) {
            throw new IllegalArgumentException("an MLP needs at least input and output sizes, got " + sizes.length + " size(s)");
        }
        Engine engine = OfflinePyTorch.engine();
        engine.setRandomSeed(seed); // torch's generator (initialisers) and DJL's (the dataset sampler)
        this.sizes = sizes.clone();
        SequentialBlock block = new SequentialBlock();
        for (int l = 1; l < sizes.length; l++) {
            block.add(Linear.builder().setUnits(sizes[l]).build());
            if (l < sizes.length - 1) {
                block.add(Activation.reluBlock());
            }
        }
        model = Model.newInstance("mlp", Device.cpu(), engine.getEngineName()); // the natives are the CPU build
        model.setBlock(block);
        trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                .optOptimizer(optimizer)
                .optDevices(new Device[] {Device.cpu()}));
        trainer.initialize(new Shape(1, sizes[0]));
        int layer = 0;
        for (Block child : block.getChildren().values()) {
            if (child instanceof Linear) {
                layer++;
                parameters.put(weightName(layer - 1), child.getParameters().get("weight"));
                parameters.put(biasName(layer - 1), child.getParameters().get("bias"));
            }
        }
    }

    /** Adam with a fixed learning rate. */
    public static Optimizer adam(float learningRate) {
        return Optimizer.adam().optLearningRateTracker(Tracker.fixed(learningRate)).build();
    }

    public static String weightName(int layer) {
        return "fc" + (layer + 1) + ".weight";
    }

    public static String biasName(int layer) {
        return "fc" + (layer + 1) + ".bias";
    }

    public int layers() {
        return sizes.length - 1;
    }

    public Trainer trainer() {
        return trainer;
    }

    /** Every parameter by name, weights then bias per layer. */
    public Map<String, Parameter> parameters() {
        return Map.copyOf(parameters);
    }

    /** The layers' weight matrices (not the biases), by name, in layer order. */
    public Map<String, Parameter> weights() {
        Map<String, Parameter> w = new LinkedHashMap<>();
        for (int l = 0; l < layers(); l++) {
            w.put(weightName(l), parameters.get(weightName(l)));
        }
        return w;
    }

    /** A parameter's shape: [out, in] for weights, [out] for biases. */
    public long[] shape(String name) {
        return parameter(name).getArray().getShape().getShape();
    }

    /** Every parameter's values by name (copies). */
    public Map<String, float[]> values() {
        Map<String, float[]> v = new LinkedHashMap<>();
        parameters.forEach((name, p) -> v.put(name, p.getArray().toFloatArray()));
        return v;
    }

    /** Overwrites the named parameters with {@code values} (copied in place). */
    public void setValues(Map<String, float[]> values) {
        values.forEach((name, v) -> {
            Parameter p = parameter(name);
            if (v.length != p.getArray().size()) {
                throw new IllegalArgumentException(name + ": " + v.length + " values for shape " + p.getArray().getShape());
            }
            WeightHook.write(p.getArray(), v);
        });
    }

    private Parameter parameter(String name) {
        Parameter p = parameters.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter named '" + name + "'; the model has " + parameters.keySet());
        }
        return p;
    }

    /**
     * Trains for {@code epochs} over {@code data} in batches of {@code batch}, shuffled by DJL's
     * sampler: DJL's {@code EasyTrain.fit} loop, with {@code hook} around each step.
     */
    public void train(Dataset data, int epochs, int batch, WeightHook hook) {
        try (NDManager manager = trainer.getManager().newSubManager()) {
            ArrayDataset set = new ArrayDataset.Builder()
                    .setData(manager.create(data.x()))
                    .optLabels(labels(manager, data))
                    .setSampling(batch, true)
                    .build();
            for (int e = 0; e < epochs; e++) {
                for (Batch b : trainer.iterateDataset(set)) {
                    try (b) {
                        hook.trainStep(trainer, b);
                    }
                }
                trainer.notifyListeners(listener -> listener.onEpoch(trainer));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (TranslateException e) {
            throw new IllegalStateException("DJL could not batch the generated data set", e);
        }
    }

    /** Test-set accuracy and mean cross-entropy loss of the current parameters. */
    public record Evaluation(double accuracy, double loss) {}

    /** Evaluates the current parameters on {@code data} (inference: no gradients, no updates). */
    public Evaluation evaluate(Dataset data) {
        try (NDManager manager = trainer.getManager().newSubManager()) {
            NDArray labels = labels(manager, data);
            NDArray logits = model.getBlock()
                    .forward(new ParameterStore(manager, false), new NDList(manager.create(data.x())), false)
                    .singletonOrThrow();
            long correct = logits.argMax(1).eq(labels).sum().getLong();
            float loss = trainer.getLoss().evaluate(new NDList(labels), new NDList(logits)).getFloat();
            return new Evaluation((double) correct / data.size(), loss);
        }
    }

    /** Evaluates with the named parameters temporarily replaced by {@code values}. */
    public Evaluation evaluate(Dataset data, Map<String, float[]> values) {
        Map<String, float[]> saved = new LinkedHashMap<>();
        values.keySet().forEach(name -> saved.put(name, parameter(name).getArray().toFloatArray()));
        setValues(values);
        try {
            return evaluate(data);
        } finally {
            setValues(saved);
        }
    }

    /**
     * Gradients of the loss of sample {@code i} alone with respect to the weight matrices, by name:
     * one DJL backward pass; the parameters' gradients are zeroed afterwards (PyTorch accumulates them).
     */
    public Map<String, float[]> sampleGradients(Dataset data, int i) {
        try (NDManager manager = trainer.getManager().newSubManager()) {
            try (GradientCollector collector = trainer.newGradientCollector()) {
                NDList prediction = trainer.forward(new NDList(manager.create(new float[][] {data.x()[i]})));
                collector.backward(trainer.getLoss().evaluate(new NDList(manager.create(new long[] {data.y()[i]})), prediction));
            }
        }
        Map<String, float[]> g = new LinkedHashMap<>();
        Map<String, Parameter> weights = weights();
        parameters.forEach((name, p) -> {
            try (NDArray gradient = p.getArray().getGradient()) {
                if (weights.containsKey(name)) {
                    g.put(name, gradient.toFloatArray());
                }
                gradient.subi(gradient);
            }
        });
        return g;
    }

    private static NDArray labels(NDManager manager, Dataset data) {
        long[] y = new long[data.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = data.y()[i];
        }
        return manager.create(y);
    }

    @Override
    public void close() {
        trainer.close();
        model.close();
    }
}
