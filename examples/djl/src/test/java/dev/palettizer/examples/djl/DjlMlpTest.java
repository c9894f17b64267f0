package dev.palettizer.examples.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import dev.palettizer.examples.Dataset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DjlMlpTest {
    private static final Dataset DATA = Dataset.Task.standard().sample(256, 9);

    @Test
    void sameSeedTrainsToTheSameBits() {
        Map<String, float[]> first;
        try (DjlMlp a = new DjlMlp(3, DjlMlp.adam(2e-3f), 24, 16, 10)) {
            a.train(DATA, 2, 32, new WeightHook(WeightTransform.identity(), a.weights()));
            first = a.values();
        }
        try (DjlMlp b = new DjlMlp(3, DjlMlp.adam(2e-3f), 24, 16, 10)) {
            b.train(DATA, 2, 32, new WeightHook(WeightTransform.identity(), b.weights()));
            b.values().forEach((name, v) -> assertArrayEquals(first.get(name), v, name));
        }
    }

    @Test
    void layoutNamesAndShapesFollowPyTorch() {
        try (DjlMlp mlp = new DjlMlp(3, DjlMlp.adam(2e-3f), 24, 16, 10)) {
            assertEquals(List.of("fc1.weight", "fc2.weight"), List.copyOf(mlp.weights().keySet()));
            assertArrayEquals(new long[] {16, 24}, mlp.shape("fc1.weight"));
            assertArrayEquals(new long[] {10}, mlp.shape("fc2.bias"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> mlp.shape("fc3.weight"));
            assertTrue(e.getMessage().contains("fc3.weight") && e.getMessage().contains("fc1.weight"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> mlp.setValues(Map.of("fc2.bias", new float[3])));
            assertTrue(e.getMessage().contains("fc2.bias") && e.getMessage().contains("(10)"), e.getMessage());
        }
    }

    @Test
    void sampleGradientsAreOneSampleEachAndLeaveNoGradientBehind() {
        try (DjlMlp mlp = new DjlMlp(3, DjlMlp.adam(2e-3f), 24, 16, 10)) {
            Map<String, float[]> g0 = mlp.sampleGradients(DATA, 0);
            Map<String, float[]> g1 = mlp.sampleGradients(DATA, 1);
            Map<String, float[]> g0again = mlp.sampleGradients(DATA, 0);
            assertEquals(mlp.weights().keySet(), g0.keySet(), "weight matrices only");
            // delta 0: equal values, but a zeroed gradient plus -0 is +0
            assertArrayEquals(g0.get("fc1.weight"), g0again.get("fc1.weight"), 0f, "no accumulation across samples");
            float differs = 0;
            for (int i = 0; i < g0.get("fc2.weight").length; i++) {
                differs += Math.abs(g0.get("fc2.weight")[i] - g1.get("fc2.weight")[i]);
            }
            assertNotEquals(0f, differs, "another sample, another gradient");
            mlp.parameters().forEach((name, p) -> {
                try (NDArray g = p.getArray().getGradient()) {
                    assertEquals(0f, g.abs().sum().getFloat(), name + " gradient zeroed");
                }
            });
        }
    }

    @Test
    void evaluatingOtherWeightsPutsTheModelsOwnBack() {
        try (DjlMlp mlp = new DjlMlp(3, DjlMlp.adam(2e-3f), 24, 16, 10)) {
            Map<String, float[]> before = mlp.values();
            DjlMlp.Evaluation zero = mlp.evaluate(DATA, Map.of("fc2.weight", new float[160], "fc2.bias", new float[10]));
            assertEquals(Math.log(10), zero.loss(), 1e-5, "all-zero logits: uniform prediction");
            mlp.values().forEach((name, v) -> assertArrayEquals(before.get(name), v, name));
        }
    }
}
