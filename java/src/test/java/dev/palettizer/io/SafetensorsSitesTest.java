package dev.palettizer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.palettizer.model.WeightSite;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SequencedMap;
import org.junit.jupiter.api.Test;

/** The documented mapping of safetensors names and shapes onto modules, ops and states. */
class SafetensorsSitesTest {
    private static SequencedMap<String, WeightSite> sites(Object... nameShapePairs) {
        SequencedMap<String, long[]> shapes = new LinkedHashMap<>();
        for (int i = 0; i < nameShapePairs.length; i += 2) {
            shapes.put((String) nameShapePairs[i], (long[]) nameShapePairs[i + 1]);
        }
        return SafetensorsSites.of(shapes);
    }

    private static void assertSite(WeightSite s, String module, String moduleType, String opName, String opType, String state) {
        assertEquals(List.of(module, moduleType, opName, opType, state),
                List.of(s.moduleName(), s.moduleType(), s.opName(), s.opType(), s.stateName()), s.tensorName());
    }

    @Test
    void namesSplitAtTheLastDotAndTheWeightsRankGivesTypeAndOp() {
        SequencedMap<String, WeightSite> s = sites(
                "model.embed_tokens.weight", new long[] {100, 16},
                "model.layers.0.self_attn.q_proj.weight", new long[] {16, 16},
                "model.layers.0.self_attn.q_proj.bias", new long[] {16},
                "model.layers.0.input_layernorm.weight", new long[] {16},
                "conv.weight", new long[] {8, 3, 3, 3},
                "conv1.weight", new long[] {8, 3, 5},
                "conv3.weight", new long[] {8, 3, 2, 2, 2},
                "attn.in_proj_weight", new long[] {48, 16},
                "attn.in_proj_bias", new long[] {48},
                "attn.out_proj.weight", new long[] {16, 16},
                "bn.running_mean", new long[] {8},
                "scale", new long[] {4, 4});
        assertEquals(List.copyOf(s.keySet()), List.of("model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                "model.layers.0.self_attn.q_proj.bias", "model.layers.0.input_layernorm.weight", "conv.weight", "conv1.weight",
                "conv3.weight", "attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight", "bn.running_mean", "scale"),
                "file order");
        assertSite(s.get("model.embed_tokens.weight"), "model.embed_tokens", "Embedding", "model.embed_tokens", "embedding", "weight");
        String q = "model.layers.0.self_attn.q_proj";
        assertSite(s.get(q + ".weight"), q, "Linear", q, "linear", "weight");
        assertSite(s.get(q + ".bias"), q, "Linear", q, "linear", "bias");
        assertSite(s.get("model.layers.0.input_layernorm.weight"), "model.layers.0.input_layernorm", "", "", "", "weight");
        assertSite(s.get("conv.weight"), "conv", "Conv2d", "conv", "conv2d", "weight");
        assertSite(s.get("conv1.weight"), "conv1", "Conv1d", "conv1", "conv1d", "weight");
        assertSite(s.get("conv3.weight"), "conv3", "Conv3d", "conv3", "conv3d", "weight");
        assertSite(s.get("attn.in_proj_weight"), "attn", "MultiheadAttention", "attn", "multi_head_attention", "in_proj_weight");
        assertSite(s.get("attn.in_proj_bias"), "attn", "MultiheadAttention", "attn", "multi_head_attention", "in_proj_bias");
        assertSite(s.get("attn.out_proj.weight"), "attn.out_proj", "Linear", "attn.out_proj", "linear", "weight");
        assertSite(s.get("bn.running_mean"), "bn", "", "", "", "running_mean");
        assertSite(s.get("scale"), "", "", "", "", "scale");
        assertArrayEquals(new long[] {8, 3, 3, 3}, s.get("conv.weight").shape());
    }
}
