package dev.palettizer.examples.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.Batch;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.Batchifier;
import ai.djl.translate.TranslateException;
import dev.palettizer.examples.Dataset;
import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The hook's plumbing against plain DJL, with transforms whose gradients are known (no DKM involved). */
class WeightHookTest {
    private static final int[] SIZES = {24, 16, 10};
    private static final int SEED = 11;
    private static final float LR = 0.05f;
    private static final Dataset DATA = Dataset.Task.standard().sample(64, 5);

    /** w_hat = 2w, so dL/dw = 2 dL/dw_hat; the model ships 3w (export differs from forward on purpose). */
    private static WeightTransform doubling(AtomicInteger steps) {
        return WeightTransform.of(steps::incrementAndGet, (name, w, out) -> scale(2, w, out),
                (name, gradOut, gradIn) -> scale(2, gradOut, gradIn), (name, w, out) -> scale(3, w, out));
    }

    private static void scale(float factor, float[] in, float[] out) {
        for (int i = 0; i < in.length; i++) {
            out[i] = factor * in[i];
        }
    }

    private static Optimizer sgd() {
        return Optimizer.sgd().setLearningRateTracker(Tracker.fixed(LR)).build();
    }

    private static Batch batch(Trainer trainer, int from, int to) {
        NDManager m = trainer.getManager().newSubManager();
        float[][] x = new float[to - from][];
        long[] y = new long[to - from];
        for (int i = from; i < to; i++) {
            x[i - from] = DATA.x()[i];
            y[i - from] = DATA.y()[i];
        }
        return new Batch(m, new NDList(m.create(x)), new NDList(m.create(y)), to - from,
                Batchifier.STACK, Batchifier.STACK, 0, 1);
    }

    private static Map<String, float[]> doubledWeights(DjlMlp mlp) {
        Map<String, float[]> w = new LinkedHashMap<>();
        mlp.weights().forEach((name, p) -> {
            float[] v = p.getArray().toFloatArray();
            for (int i = 0; i < v.length; i++) {
                v[i] *= 2;
            }
            w.put(name, v);
        });
        return w;
    }

    private static float[] gradient(Parameter p) {
        try (NDArray g = p.getArray().getGradient()) {
            return g.toFloatArray();
        }
    }

    @Test
    void doublingTransformDoublesTheGradientAndTheOptimizerUpdatesTheMasterWeights() {
        try (DjlMlp plain = new DjlMlp(SEED, sgd(), SIZES); DjlMlp hooked = new DjlMlp(SEED, sgd(), SIZES)) {
            Map<String, float[]> w0 = hooked.values();
            assertArrayEquals(w0.get("fc1.weight"), plain.values().get("fc1.weight"), "same seed, same initial weights");
            // The plain model holds 2w, so its forward pass is the hooked model's and dL/dw_hat is its gradient.
            plain.setValues(doubledWeights(plain));
            try (Batch b = batch(plain.trainer(), 0, 16)) {
                EasyTrain.trainBatch(plain.trainer(), b);
            }
            Map<String, float[]> gPlain = new LinkedHashMap<>();
            plain.parameters().forEach((name, p) -> gPlain.put(name, gradient(p)));
            plain.trainer().step();

            WeightHook hook = new WeightHook(doubling(new AtomicInteger()), hooked.weights());
            hook.beforeForward();
            Map<String, float[]> wHat = hooked.values();
            for (String name : hooked.weights().keySet()) {
                float[] w = w0.get(name);
                for (int i = 0; i < w.length; i++) {
                    assertEquals(2 * w[i], wHat.get(name)[i], name + ": the layer computes with w_hat = 2w");
                }
            }
            try (Batch b = batch(hooked.trainer(), 0, 16)) {
                EasyTrain.trainBatch(hooked.trainer(), b);
            }
            for (String name : hooked.weights().keySet()) {
                assertArrayEquals(gPlain.get(name), gradient(hooked.weights().get(name)), name + ": DJL's dL/dw_hat");
            }
            hook.afterBackward();
            Map<String, float[]> after = hooked.values();
            hooked.parameters().forEach((name, p) -> {
                float[] g = gradient(p);
                float[] expected = gPlain.get(name).clone();
                if (name.endsWith(".weight")) {
                    for (int i = 0; i < expected.length; i++) {
                        expected[i] *= 2;
                    }
                }
                assertArrayEquals(expected, g, name + ": the optimizer sees dL/dw");
                assertArrayEquals(w0.get(name), after.get(name), name + ": the master weights are back");
            });
            hooked.trainer().step();
            Map<String, float[]> stepped = hooked.values();
            w0.forEach((name, w) -> {
                float[] g = gPlain.get(name);
                float factor = name.endsWith(".weight") ? 2 : 1;
                for (int i = 0; i < w.length; i++) {
                    assertEquals(w[i] - LR * factor * g[i], stepped.get(name)[i], 1e-6f, name + "[" + i + "] after SGD");
                }
            });
            hook.exported().forEach((name, e) -> {
                for (int i = 0; i < e.length; i++) {
                    assertEquals(3 * stepped.get(name)[i], e[i], name + ": exported through the transform's export");
                }
            });
        }
    }

    @Test
    void identityHookTrainsBitForBitAsDjlsOwnFit() throws IOException, TranslateException {
        try (DjlMlp plain = new DjlMlp(SEED, DjlMlp.adam(2e-3f), SIZES); DjlMlp hooked = new DjlMlp(SEED, DjlMlp.adam(2e-3f), SIZES);
             NDManager m = plain.trainer().getManager().newSubManager()) {
            ArrayDataset set = new ArrayDataset.Builder().setData(m.create(DATA.x()))
                    .optLabels(m.create(Arrays.stream(DATA.y()).asLongStream().toArray()))
                    .setSampling(16, false).build();
            EasyTrain.fit(plain.trainer(), 2, set, null);
            WeightHook hook = new WeightHook(WeightTransform.identity(), hooked.weights());
            for (int e = 0; e < 2; e++) {
                for (Batch b : hooked.trainer().iterateDataset(set)) {
                    try (b) {
                        hook.trainStep(hooked.trainer(), b);
                    }
                }
            }
            Map<String, float[]> expected = plain.values();
            hooked.values().forEach((name, v) -> assertArrayEquals(expected.get(name), v, name));
        }
    }

    @Test
    void stepsAllocateNoLastingArraysAndCountSteps() {
        try (DjlMlp mlp = new DjlMlp(SEED, DjlMlp.adam(2e-3f), SIZES)) {
            AtomicInteger steps = new AtomicInteger();
            WeightHook hook = new WeightHook(doubling(steps), mlp.weights());
            NDManager model = mlp.trainer().getModel().getNDManager();
            int[] counts = new int[6];
            for (int s = 0; s < counts.length; s++) {
                try (Batch b = batch(mlp.trainer(), 16 * (s % 4), 16 * (s % 4) + 16)) {
                    hook.trainStep(mlp.trainer(), b);
                }
                counts[s] = model.getManagedArrays().size();
            }
            // The first steps create the optimizer's state (Adam's two moments per parameter); after that nothing grows.
            assertEquals(counts[2], counts[5], "arrays held by the model's managers after steps 3 and 6");
            assertEquals(counts.length, steps.get(), "transform.step() once per training step");
        }
    }

    @Test
    void aFailingStepPutsTheMasterWeightsBack() {
        try (DjlMlp mlp = new DjlMlp(SEED, DjlMlp.adam(2e-3f), SIZES)) {
            WeightHook hook = new WeightHook(doubling(new AtomicInteger()), mlp.weights());
            Map<String, float[]> before = mlp.values();
            NDManager m = mlp.trainer().getManager().newSubManager();
            Batch wrongWidth = new Batch(m, new NDList(m.ones(new Shape(4, 7))), new NDList(m.zeros(new Shape(4), DataType.INT64)),
                    4, Batchifier.STACK, Batchifier.STACK, 0, 1);
            try (wrongWidth) {
                assertThrows(RuntimeException.class, () -> hook.trainStep(mlp.trainer(), wrongWidth));
            }
            mlp.values().forEach((name, v) -> assertArrayEquals(before.get(name), v, name));
            IllegalStateException e = assertThrows(IllegalStateException.class, hook::afterBackward);
            assertTrue(e.getMessage().contains("without beforeForward"), e.getMessage());
        }
    }
}
