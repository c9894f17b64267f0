package dev.palettizer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.model.WeightSite;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.SpecException;
import dev.palettizer.spec.WeightDecision;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Seed 001's precedence, rule by rule, with null (disable) and "*" (every state), and the validation. */
class KMeansPalettizerConfigTest {
    private static final PalettizationSpec B2 = PalettizationSpec.defaults().withBits(2);
    private static final PalettizationSpec B3 = PalettizationSpec.defaults().withBits(3);
    private static final PalettizationSpec B4 = PalettizationSpec.defaults();
    private static final PalettizationSpec B6 = PalettizationSpec.defaults().withBits(6);
    private static final PalettizationSpec B8 = PalettizationSpec.defaults().withBits(8);

    private static WeightSite linear(String module, String state) {
        return new WeightSite(module + "." + state, module, "Linear", module, "linear", state, new long[] {64, 64});
    }

    private static WeightSite noOp(String module, String state) {
        return new WeightSite(module + "." + state, module, "", "", "", state, new long[] {64});
    }

    private static ModuleKMeansPalettizerConfig module(PalettizationSpec spec) {
        return ModuleKMeansPalettizerConfig.of(spec);
    }

    /** The bits the decision palettizes with, or 0 when the weight is left alone. */
    private static int bits(KMeansPalettizerConfig c, WeightSite site) {
        WeightDecision d = c.resolve(site);
        return d.palettized() ? d.spec().nBits() : 0;
    }

    private static void assertDecided(KMeansPalettizerConfig c, WeightSite site, int bits, String reason) {
        WeightDecision d = c.resolve(site);
        assertEquals(bits, d.palettized() ? d.spec().nBits() : 0, d.reason());
        assertEquals(reason, d.reason());
    }

    // ------------------------------------------------------------------ defaults

    @Test
    void defaultsPalettizeWeightAndInProjWeightWithFourBitPerTensor() {
        KMeansPalettizerConfig c = KMeansPalettizerConfig.defaults();
        WeightDecision w = c.resolve(linear("layer.0", "weight"));
        assertEquals(PalettizationSpec.defaults(), w.spec());
        assertTrue(w.fastMode());
        assertEquals(4, w.roundingPrecision());
        assertEquals("global_config.op_state_spec.weight", w.reason());
        assertDecided(c, new WeightSite("attn.in_proj_weight", "attn", "MultiheadAttention", "attn",
                "multi_head_attention", "in_proj_weight", new long[] {192, 64}), 4, "global_config.op_state_spec.in_proj_weight");
        assertDecided(c, linear("layer.0", "bias"), 0, "global_config.op_state_spec: no entry for 'bias' and no \"*\"");
        assertDecided(c, noOp("norm", "weight"), 0, "global_config: no op consumes 'weight' (op-level specs do not apply)"
                + " and module_state_spec has no entry for it");
    }

    // ------------------------------------------------------------------ module level

    @Test
    void moduleNameKeysMatchTheWholeNameExactKeyFirstThenRegexesInDocumentOrder() {
        KMeansPalettizerConfig c = KMeansPalettizerConfig.of(module(B8))
                .withModuleNameConfig("layer\\..*", module(B2))
                .withModuleNameConfig(".*\\.1", module(B3))
                .withModuleNameConfig("layer.3", module(B6));
        assertDecided(c, linear("layer.1", "weight"), 2, "module_name_configs.\"layer\\\\..*\".op_state_spec.weight");
        assertDecided(c, linear("block.1", "weight"), 3, "module_name_configs.\".*\\\\.1\".op_state_spec.weight");
        assertDecided(c, linear("layer.3", "weight"), 6, "module_name_configs.\"layer.3\".op_state_spec.weight");
        assertEquals(8, bits(c, linear("layer", "weight")), "a pattern must match the whole name, not a prefix");
        assertEquals(8, bits(c, linear("xlayer.1x", "weight")), "nor a part of it");

        KMeansPalettizerConfig swapped = KMeansPalettizerConfig.of(module(B8))
                .withModuleNameConfig(".*\\.1", module(B3))
                .withModuleNameConfig("layer\\..*", module(B2));
        assertEquals(3, bits(swapped, linear("layer.1", "weight")), "the first matching regex decides");
        assertNotEquals(c, swapped, "order is part of the config");
    }

    @Test
    void moduleNameBeatsModuleTypeWhichBeatsGlobal() {
        KMeansPalettizerConfig c = KMeansPalettizerConfig.of(module(B4))
                .withModuleTypeConfig("Linear", module(B8))
                .withModuleNameConfig("layer.0", module(B2));
        assertDecided(c, linear("layer.0", "weight"), 2, "module_name_configs.\"layer.0\".op_state_spec.weight");
        assertDecided(c, linear("layer.1", "weight"), 8, "module_type_configs.Linear.op_state_spec.weight");
        WeightSite conv = new WeightSite("c.weight", "c", "Conv2d", "c", "conv2d", "weight", new long[] {8, 8, 3, 3});
        assertDecided(c, conv, 4, "global_config.op_state_spec.weight");
    }

    @Test
    void aMatchingModuleRuleDecidesAloneWithoutMergingWithLessSpecificOnes() {
        ModuleKMeansPalettizerConfig onlyBias = ModuleKMeansPalettizerConfig.defaults().withOpStateSpec(Map.of("bias", B2));
        KMeansPalettizerConfig c = KMeansPalettizerConfig.of(module(B8)).withModuleNameConfig("layer.0", onlyBias);
        assertDecided(c, linear("layer.0", "weight"), 0,
                "module_name_configs.\"layer.0\".op_state_spec: no entry for 'weight' and no \"*\"");
        assertEquals(2, bits(c, linear("layer.0", "bias")));
    }

    @Test
    void nullModuleConfigsDisableEvenWhereALessSpecificRuleWouldPalettize() {
        KMeansPalettizerConfig c = KMeansPalettizerConfig.of(module(B4))
                .withModuleTypeConfig("Linear", module(B8))
                .withModuleNameConfig("lm_head", null)
                .withModuleTypeConfig("Embedding", null);
        assertDecided(c, linear("lm_head", "weight"), 0, "module_name_configs.lm_head: null");
        WeightSite embed = new WeightSite("e.weight", "e", "Embedding", "e", "embedding", "weight", new long[] {100, 8});
        assertDecided(c, embed, 0, "module_type_configs.Embedding: null");
        KMeansPalettizerConfig noGlobal = c.withGlobalConfig(null);
        WeightSite conv = new WeightSite("c.weight", "c", "Conv2d", "c", "conv2d", "weight", new long[] {8, 8, 3, 3});
        assertDecided(noGlobal, conv, 0, "no module_name_configs or module_type_configs rule matches module 'c' (type Conv2d),"
                + " and there is no global_config");
        assertEquals(8, bits(noGlobal, linear("fc", "weight")), "a type rule still applies without a global config");
    }

    @Test
    void qualifiedTypeKeysNameTheirLastPartAndAnExactKeyComesFirst() {
        KMeansPalettizerConfig c = KMeansPalettizerConfig.of(module(B4))
                .withModuleTypeConfig("torch.nn.modules.linear.Linear", module(B2));
        assertDecided(c, linear("fc", "weight"), 2, "module_type_configs.\"torch.nn.modules.linear.Linear\".op_state_spec.weight");
        assertEquals(2, bits(c.withModuleTypeConfig("nn.Linear", module(B8)), linear("fc", "weight")),
                "the first qualified key in document order");
        assertEquals(8, bits(c.withModuleTypeConfig("Linear", module(B8)), linear("fc", "weight")), "exact beats qualified");
        assertEquals(4, bits(c, new WeightSite("x.weight", "x", "MyLinear", "x", "linear", "weight", new long[] {8, 8})),
                "a key names a whole part, not a suffix of one");
    }

    // ------------------------------------------------------------------ module state spec

    @Test
    void moduleStateSpecOverridesEveryOpLevelSetting() {
        ModuleKMeansPalettizerConfig m = module(B4)
                .withOpTypeConfig("linear", OpKMeansPalettizerConfig.of(B8))
                .withOpNameConfig("fc", null)
                .withModuleStateSpec("weight", B2);
        KMeansPalettizerConfig c = KMeansPalettizerConfig.of(m);
        assertDecided(c, linear("fc", "weight"), 2, "global_config.module_state_spec.weight");
        assertDecided(c, linear("other", "weight"), 2, "global_config.module_state_spec.weight");
    }

    @Test
    void nullModuleStateSpecDisablesWhateverTheOpsSay() {
        KMeansPalettizerConfig c = KMeansPalettizerConfig.of(module(B4).withModuleStateSpec("weight", null));
        assertDecided(c, linear("fc", "weight"), 0, "global_config.module_state_spec.weight: null");
    }

    @Test
    void moduleStateStarCoversEveryStateIncludingThoseNoOpConsumesAndAnOwnKeyComesFirst() {
        KMeansPalettizerConfig c = KMeansPalettizerConfig.of(module(B4).withModuleStateSpec("*", B6)
                .withModuleStateSpec("bias", null));
        assertDecided(c, noOp("norm", "weight"), 6, "global_config.module_state_spec.\"*\"");
        assertDecided(c, linear("fc", "weight"), 6, "global_config.module_state_spec.\"*\"");
        assertDecided(c, linear("fc", "bias"), 0, "global_config.module_state_spec.bias: null");
    }

    // ------------------------------------------------------------------ op level

    @Test
    void opNameBeatsOpTypeWhichBeatsTheModulesOpStateSpec() {
        ModuleKMeansPalettizerConfig m = module(B4)
                .withOpTypeConfig("linear", OpKMeansPalettizerConfig.of(B8))
                .withOpNameConfig("head.*", OpKMeansPalettizerConfig.of(B2));
        KMeansPalettizerConfig c = KMeansPalettizerConfig.of(m);
        assertDecided(c, linear("head.out", "weight"), 2, "global_config.op_name_config.\"head.*\".op_state_spec.weight");
        assertDecided(c, linear("body", "weight"), 8, "global_config.op_type_config.linear.op_state_spec.weight");
        WeightSite conv = new WeightSite("c.weight", "c", "Conv2d", "c", "conv2d", "weight", new long[] {8, 8, 3, 3});
        assertDecided(c, conv, 4, "global_config.op_state_spec.weight");
        assertEquals(8, bits(c, linear("xhead.out", "weight")), "op names match whole names too, so the type rule decides");
    }

    @Test
    void opTypeKeysMayBeTheSeedsAtenNames() {
        KMeansPalettizerConfig c = KMeansPalettizerConfig.of(module(B4)
                .withOpTypeConfig("aten.linear.default", OpKMeansPalettizerConfig.of(B3)));
        assertDecided(c, linear("fc", "weight"), 3, "global_config.op_type_config.\"aten.linear.default\".op_state_spec.weight");
    }

    @Test
    void nullOpConfigsAndNullOpStateSpecsDisable() {
        ModuleKMeansPalettizerConfig m = module(B4)
                .withOpNameConfig("skip", null)
                .withOpTypeConfig("conv2d", OpKMeansPalettizerConfig.disabled());
        KMeansPalettizerConfig c = KMeansPalettizerConfig.of(m);
        assertDecided(c, linear("skip", "weight"), 0, "global_config.op_name_config.skip: null");
        WeightSite conv = new WeightSite("c.weight", "c", "Conv2d", "c", "conv2d", "weight", new long[] {8, 8, 3, 3});
        assertDecided(c, conv, 0, "global_config.op_type_config.conv2d.op_state_spec: null");
        KMeansPalettizerConfig noOps = KMeansPalettizerConfig.of(module(B4).withOpStateSpec(null));
        assertDecided(noOps, linear("fc", "weight"), 0, "global_config.op_state_spec: null");
    }

    @Test
    void opStateStarCoversOtherStatesAndAnOwnNullKeyWins() {
        Map<String, PalettizationSpec> specs = new LinkedHashMap<>();
        specs.put("*", B6);
        specs.put("weight", null);
        KMeansPalettizerConfig c = KMeansPalettizerConfig.of(module(B4).withOpStateSpec(specs));
        assertDecided(c, linear("fc", "bias"), 6, "global_config.op_state_spec.\"*\"");
        assertDecided(c, linear("fc", "weight"), 0, "global_config.op_state_spec.weight: null");
        assertEquals(0, bits(c, noOp("norm", "weight")), "op-level \"*\" does not reach tensors no op consumes");
    }

    @Test
    void theDecidingModuleConfigChoosesTheClusteringMode() {
        KMeansPalettizerConfig c = KMeansPalettizerConfig.defaults()
                .withModuleNameConfig("exact", module(B4).withFastKMeansMode(false))
                .withModuleNameConfig("coarse", module(B4).withRoundingPrecision(2));
        assertFalse(c.resolve(linear("exact", "weight")).fastMode());
        WeightDecision coarse = c.resolve(linear("coarse", "weight"));
        assertTrue(coarse.fastMode());
        assertEquals(2, coarse.roundingPrecision());
    }

    // ------------------------------------------------------------------ validation and immutability

    @Test
    void fastModeWithVectorCentroidsIsRefusedWhereverTheSpecSits() {
        PalettizationSpec vectors = B4.withClusterDim(2);
        SpecException op = assertThrows(SpecException.class, () -> module(vectors));
        assertEquals("op_state_spec.weight: cluster_dim 2 is not supported with enable_fast_kmeans_mode true (fast mode"
                + " rounds scalar values); set enable_fast_kmeans_mode: false in this module config, or cluster_dim: 1",
                op.getMessage());
        ModuleKMeansPalettizerConfig exact = ModuleKMeansPalettizerConfig.defaults().withFastKMeansMode(false);
        assertTrue(assertThrows(SpecException.class, () -> exact.withModuleStateSpec("weight", vectors).withFastKMeansMode(true))
                .getMessage().startsWith("module_state_spec.weight: cluster_dim 2"));
        assertTrue(assertThrows(SpecException.class, () -> exact.withOpTypeConfig("linear", OpKMeansPalettizerConfig.of(vectors))
                .withFastKMeansMode(true)).getMessage().startsWith("op_type_config.linear.op_state_spec.weight: cluster_dim 2"));
        assertTrue(assertThrows(SpecException.class, () -> exact.withOpNameConfig("fc", OpKMeansPalettizerConfig.of(vectors))
                .withFastKMeansMode(true)).getMessage().startsWith("op_name_config.fc.op_state_spec.weight: cluster_dim 2"));
        WeightDecision d = KMeansPalettizerConfig.of(exact.withOpStateSpec(Map.of("weight", vectors)))
                .resolve(linear("fc", "weight"));
        assertEquals(2, d.spec().clusterDim(), "vectors are fine without fast mode");
    }

    @Test
    void badRegexesAndRoundingPrecisionsAreRefused() {
        assertEquals("module_name_configs.\"layer.[\": not a valid regular expression: Unclosed character class near index 6",
                assertThrows(SpecException.class, () -> KMeansPalettizerConfig.defaults().withModuleNameConfig("layer.[", null))
                        .getMessage());
        assertTrue(assertThrows(SpecException.class, () -> module(B4).withOpNameConfig("(", null)).getMessage()
                .startsWith("op_name_config.\"(\": not a valid regular expression"));
        assertEquals("rounding_precision: must be a positive integer, got 0",
                assertThrows(SpecException.class, () -> module(B4).withRoundingPrecision(0)).getMessage());
    }

    @Test
    void configsAreImmutableCopiesThatKeepNullValues() {
        Map<String, ModuleKMeansPalettizerConfig> names = new HashMap<>();
        names.put("lm_head", null);
        KMeansPalettizerConfig c = new KMeansPalettizerConfig(module(B4), null, new LinkedHashMap<>(names));
        names.put("other", null);
        assertEquals(1, c.moduleNameConfigs().size());
        assertNull(c.moduleNameConfigs().get("lm_head"));
        assertTrue(c.moduleNameConfigs().containsKey("lm_head"));
        assertThrows(UnsupportedOperationException.class, () -> c.moduleNameConfigs().put("x", null));
        assertThrows(UnsupportedOperationException.class, () -> c.globalConfig().opStateSpec().put("bias", B2));
        assertTrue(c.moduleTypeConfigs().isEmpty());
        assertEquals(c, new KMeansPalettizerConfig(module(B4), Map.of(), new LinkedHashMap<>(Map.of()))
                .withModuleNameConfig("lm_head", null));
    }

    @Test
    void granularityAndOtherSpecFieldsPassThroughUnchanged() {
        PalettizationSpec grouped = B4.withGranularity(Granularity.grouped(1, 16)).withPerChannelScale(true);
        assertEquals(grouped, KMeansPalettizerConfig.of(grouped).resolve(linear("fc", "weight")).spec());
    }
}
