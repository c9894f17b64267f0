package dev.palettizer.config.dkm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.config.ConfigFiles;
import dev.palettizer.model.WeightSite;
import dev.palettizer.spec.DkmSpec;
import dev.palettizer.spec.SpecException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Seed 004's selection: which weights DKM considers, precedence, null, weight_threshold and the list rule. */
class DKMPalettizerConfigTest {
    private static final ModuleDKMPalettizerConfig D = ModuleDKMPalettizerConfig.defaults();

    private static WeightSite site(String module, String type, String state, long... shape) {
        String op = type.isEmpty() ? "" : type.toLowerCase();
        return new WeightSite(module + "." + state, module, type, type.isEmpty() ? "" : module, op, state, shape);
    }

    private static WeightSite linear(String module, long rows, long cols) {
        return site(module, "Linear", "weight", rows, cols);
    }

    /** A Conv2d weight of {@code elements} elements (out channels x 1 x 1 x 1). */
    private static WeightSite conv(String module, long elements) {
        return site(module, "Conv2d", "weight", elements, 1, 1, 1);
    }

    private static DkmResolution.Palettize palettized(DKMPalettizerConfig c, WeightSite site, String rule) {
        DkmResolution r = c.resolve(site, 7);
        DkmResolution.Palettize p = assertInstanceOf(DkmResolution.Palettize.class, r, r.rule());
        assertEquals(rule, p.rule());
        return p;
    }

    private static final String NO_RULE_FOR_FC = "no module_name_configs or module_type_configs rule matches module 'fc'"
            + " (type Linear), and there is no global_config";

    private static void leftAlone(DKMPalettizerConfig c, WeightSite site, String rule) {
        DkmResolution r = c.resolve(site, 7);
        assertInstanceOf(DkmResolution.Leave.class, r, r.rule());
        assertEquals(rule, r.rule());
    }

    // ------------------------------------------------------------------ seed 004's list example

    private static final String SEED_EXAMPLE = """
            dkm_palettization_config:
              module_type_configs:
                Conv2d:
                  - {n_bits: 4, cluster_dim: 4, weight_threshold: 1000}
                  - {n_bits: 2, cluster_dim: 2, weight_threshold: 300}
            """;

    @ParameterizedTest(name = "{0} elements")
    @CsvSource({
            "1, , ",
            "300, , ",
            "301, 2, 2",
            "1000, 2, 2",
            "1001, 4, 4",
            "1000000, 4, 4"})
    void theSeedsListPicksByWeightThreshold(long elements, Integer bits, Integer clusterDim) {
        DKMPalettizerConfig c = DkmConfigFiles.parse(SEED_EXAMPLE, ConfigFiles.Format.YAML, "seed.yaml");
        WeightSite w = conv("features.0", elements);
        if (bits == null) {
            leftAlone(c, w, "module_type_configs.Conv2d: " + elements
                    + " elements exceed no weight_threshold of the list (the smallest is 300)");
            return;
        }
        String index = bits == 4 ? "[0]" : "[1]";
        DkmSpec spec = palettized(c, w, "module_type_configs.Conv2d" + index).spec();
        assertEquals(bits, spec.nBits());
        assertEquals(clusterDim, spec.clusterDim());
        // The list's order does not matter, only its thresholds (the index follows the entry).
        List<ModuleDKMPalettizerConfig> reversed = new ArrayList<>(c.moduleTypeConfigs().get("Conv2d"));
        java.util.Collections.reverse(reversed);
        DKMPalettizerConfig swapped = c.setModuleTypeByThreshold("Conv2d", reversed);
        String swappedIndex = bits == 4 ? "[1]" : "[0]";
        assertEquals(spec, palettized(swapped, w, "module_type_configs.Conv2d" + swappedIndex).spec());
    }

    @Test
    void theSeedsExampleLeavesOtherTypesAloneForItHasRulesAndNoGlobalConfig() {
        DKMPalettizerConfig c = DkmConfigFiles.parse(SEED_EXAMPLE, ConfigFiles.Format.YAML, "seed.yaml");
        assertNull(c.globalConfig());
        leftAlone(c, linear("fc", 100, 100), NO_RULE_FOR_FC);
    }

    @Test
    void aListOfThreePicksTheLargestThresholdTheCountExceeds() {
        DKMPalettizerConfig c = new DKMPalettizerConfig(null, null, null).setModuleTypeByThreshold("Linear", List.of(
                D.withWeightThreshold(10).withNBits(1), D.withWeightThreshold(1000).withNBits(3),
                D.withWeightThreshold(100).withNBits(2)));
        assertEquals(1, palettized(c, linear("a", 11, 1), "module_type_configs.Linear[0]").spec().nBits());
        assertEquals(2, palettized(c, linear("a", 101, 1), "module_type_configs.Linear[2]").spec().nBits());
        assertEquals(2, palettized(c, linear("a", 1000, 1), "module_type_configs.Linear[2]").spec().nBits());
        assertEquals(3, palettized(c, linear("a", 1001, 1), "module_type_configs.Linear[1]").spec().nBits());
        leftAlone(c, linear("a", 10, 1), "module_type_configs.Linear: 10 elements exceed no weight_threshold of the list"
                + " (the smallest is 10)");
    }

    @Test
    void listsNeedDistinctThresholdsAndNoNulls() {
        DKMPalettizerConfig c = DKMPalettizerConfig.defaults();
        SpecException dup = assertThrows(SpecException.class, () -> c.setModuleTypeByThreshold("Conv2d",
                List.of(D.withWeightThreshold(300).withNBits(4), D.withWeightThreshold(1000), D.withWeightThreshold(300))));
        assertEquals("module_type_configs.Conv2d[2].weight_threshold: 300 is also the weight_threshold of"
                + " module_type_configs.Conv2d[0]; the configs of a list need distinct weight_thresholds, which pick"
                + " among them by the weight's element count", dup.getMessage());
        SpecException empty = assertThrows(SpecException.class, () -> c.setModuleTypeByThreshold("Conv2d", List.of()));
        assertEquals("module_type_configs.Conv2d: an empty list; give one module config or more, or null to leave"
                + " modules of this type alone", empty.getMessage());
        SpecException nul = assertThrows(SpecException.class, () -> c.setModuleTypeByThreshold("Conv2d",
                Arrays.asList(D, null)));
        assertEquals("module_type_configs.Conv2d[1]: null inside a list of module configs; to leave modules of this"
                + " type alone, make the whole entry null", nul.getMessage());
        SpecException inFile = assertThrows(SpecException.class, () -> DkmConfigFiles.parse("""
                dkm_palettization_config:
                  module_type_configs:
                    Conv2d: [{weight_threshold: 5}, {weight_threshold: 5, n_bits: 3}]
                """, ConfigFiles.Format.YAML, "cfg.yaml"));
        assertTrue(inFile.getMessage().startsWith("cfg.yaml: module_type_configs.Conv2d[1].weight_threshold: 5 is also"
                + " the weight_threshold of module_type_configs.Conv2d[0]"), inFile.getMessage());
        SpecException nullInFile = assertThrows(SpecException.class, () -> DkmConfigFiles.parse("""
                dkm_palettization_config:
                  module_type_configs:
                    Conv2d: [{n_bits: 3}, null]
                """, ConfigFiles.Format.YAML, "cfg.yaml"));
        assertTrue(nullInFile.getMessage().startsWith("cfg.yaml: module_type_configs.Conv2d[1]: null inside a list"),
                nullInFile.getMessage());
    }

    // ------------------------------------------------------------------ weight_threshold of a single config

    @Test
    void aWeightIsPalettizedOnlyWhenItsElementCountExceedsTheThreshold() {
        DKMPalettizerConfig c = DKMPalettizerConfig.defaults();
        leftAlone(c, linear("fc", 32, 64), "global_config: 2048 elements do not exceed weight_threshold 2048");
        palettized(c, linear("fc", 2049, 1), "global_config");
        DKMPalettizerConfig zero = DKMPalettizerConfig.of(D.withWeightThreshold(0));
        palettized(zero, linear("fc", 1, 1), "global_config");
    }

    // ------------------------------------------------------------------ precedence

    @Test
    void nameRulesComeBeforeTypeRulesBeforeTheGlobalConfig() {
        DKMPalettizerConfig c = DKMPalettizerConfig.of(D.withNBits(8))
                .setModuleType("Linear", D.withNBits(3))
                .setModuleName("head", D.withNBits(1));
        assertEquals(1, palettized(c, linear("head", 64, 64), "module_name_configs.head").spec().nBits());
        assertEquals(3, palettized(c, linear("body", 64, 64), "module_type_configs.Linear").spec().nBits());
        assertEquals(8, palettized(c, conv("conv", 4096), "global_config").spec().nBits());
    }

    @Test
    void nameKeysMatchTheWholeNameExactFirstThenRegexesInDocumentOrder() {
        DKMPalettizerConfig c = DKMPalettizerConfig.of(D.withNBits(8))
                .setModuleName("layers\\..*", D.withNBits(2))
                .setModuleName(".*\\.1", D.withNBits(3))
                .setModuleName("layers.1", D.withNBits(6));
        assertEquals(6, palettized(c, linear("layers.1", 64, 64), "module_name_configs.\"layers.1\"").spec().nBits(),
                "an exact key wins over earlier regexes");
        assertEquals(2, palettized(c, linear("layers.3", 64, 64), "module_name_configs.\"layers\\\\..*\"").spec().nBits());
        assertEquals(3, palettized(c, linear("block.1", 64, 64), "module_name_configs.\".*\\\\.1\"").spec().nBits());
        assertEquals(8, palettized(c, linear("layers", 64, 64), "global_config").spec().nBits(),
                "a regex must match the whole name");
        DKMPalettizerConfig replaced = c.setModuleName("layers\\..*", D.withNBits(4));
        assertEquals(List.of("layers\\..*", ".*\\.1", "layers.1"), List.copyOf(replaced.moduleNameConfigs().keySet()),
                "replacing an entry keeps its priority");
        assertEquals(4, replaced.resolve(linear("layers.2", 64, 64), 0) instanceof DkmResolution.Palettize p
                ? p.spec().nBits() : -1);
    }

    @Test
    void nullLeavesAloneAtEveryLevel() {
        DKMPalettizerConfig c = DKMPalettizerConfig.of(D)
                .setModuleType("Conv2d", null)
                .setModuleName("lm_head", null);
        leftAlone(c, linear("lm_head", 64, 64), "module_name_configs.lm_head: null");
        leftAlone(c, conv("features.0", 4096), "module_type_configs.Conv2d: null");
        palettized(c, linear("fc", 64, 64), "global_config");
        leftAlone(c.setGlobal(null), linear("fc", 64, 64), NO_RULE_FOR_FC);
        DKMPalettizerConfig named = c.setModuleName("features\\.0", D);
        palettized(named, conv("features.0", 4096), "module_name_configs.\"features\\\\.0\"");
    }

    @Test
    void qualifiedTypeKeysNameTheirLastPartAndExactKeysComeFirst() {
        DKMPalettizerConfig c = new DKMPalettizerConfig(null, null, null)
                .setModuleType("torch.nn.modules.conv.Conv2d", D.withNBits(3));
        palettized(c, conv("c", 4096), "module_type_configs.\"torch.nn.modules.conv.Conv2d\"");
        palettized(c.setModuleType("Conv2d", D.withNBits(5)), conv("c", 4096), "module_type_configs.Conv2d");
    }

    // ------------------------------------------------------------------ n_bits per module type, and the spec

    @Test
    void unsetNBitsIsFourForLinearAndTwoForOtherTypes() {
        DKMPalettizerConfig c = DKMPalettizerConfig.defaults();
        assertEquals(4, palettized(c, linear("fc", 64, 64), "global_config").spec().nBits());
        assertEquals(2, palettized(c, conv("conv", 4096), "global_config").spec().nBits());
        assertEquals(2, palettized(c, site("emb", "Embedding", "weight", 1000, 64), "global_config").spec().nBits());
        assertEquals(2, palettized(c, site("c1", "Conv1d", "weight", 64, 8, 8), "global_config").spec().nBits());
        assertEquals(2, palettized(c, site("c3", "Conv3d", "weight", 8, 8, 8, 8, 8), "global_config").spec().nBits());
        assertEquals(2, palettized(c, site("attn", "MultiheadAttention", "in_proj_weight", 192, 64), "global_config")
                .spec().nBits());
        DKMPalettizerConfig three = DKMPalettizerConfig.of(D.withNBits(3));
        assertEquals(3, palettized(three, linear("fc", 64, 64), "global_config").spec().nBits());
        assertEquals(3, palettized(three, conv("conv", 4096), "global_config").spec().nBits());
    }

    @Test
    void thePalettizeDecisionCarriesTheSpecTheMilestoneAndTheMemoryFraction() {
        ModuleDKMPalettizerConfig m = D.toBuilder().milestone(250).palettMaxMem(0.25).palettTau(0.5).build();
        DkmResolution.Palettize p = palettized(DKMPalettizerConfig.of(m), linear("fc", 64, 64), "global_config");
        assertEquals(m.spec("Linear", 7), p.spec());
        assertEquals(7, p.spec().seed());
        assertEquals(0.5, p.spec().tau());
        assertEquals(250, p.milestone());
        assertEquals(0.25, p.maxMem());
    }

    // ------------------------------------------------------------------ which tensors

    @Test
    void onlyTheWeightsOfLayersWithAnOpAreConsidered() {
        DKMPalettizerConfig c = DKMPalettizerConfig.of(D.withWeightThreshold(0)).setModuleName(".*", D.withWeightThreshold(0));
        String what = " (DKM palettizes the weight of Linear, Conv1d, Conv2d, Conv3d and Embedding modules and the"
                + " in_proj_weight of MultiheadAttention)";
        leftAlone(c, site("fc", "Linear", "bias", 64), "not a DKM weight: 'bias' of a Linear module" + what);
        leftAlone(c, site("norm", "", "weight", 64), "not a DKM weight: 'weight' of a module of no known type" + what);
        leftAlone(c, site("ln", "LayerNorm", "weight", 64), "not a DKM weight: 'weight' of a LayerNorm module" + what);
        leftAlone(c, site("attn", "MultiheadAttention", "in_proj_bias", 192),
                "not a DKM weight: 'in_proj_bias' of a MultiheadAttention module" + what);
        leftAlone(c, site("up", "ConvTranspose2d", "weight", 8, 8, 3, 3),
                "not a DKM weight: 'weight' of a ConvTranspose2d module" + what);
        palettized(c, site("attn", "MultiheadAttention", "in_proj_weight", 192, 64), "module_name_configs.\".*\"");
        palettized(c, site("attn.out_proj", "Linear", "weight", 64, 64), "module_name_configs.\".*\"");
    }

    // ------------------------------------------------------------------ the config itself

    @Test
    void setReturnsNewConfigsAndLeavesTheOriginalAlone() {
        DKMPalettizerConfig c = DKMPalettizerConfig.defaults();
        DKMPalettizerConfig d = c.setModuleName("x", null).setModuleType("Linear", D).setGlobal(D.withNBits(2));
        assertEquals(DKMPalettizerConfig.defaults(), c);
        assertNotEquals(c, d);
        assertTrue(c.moduleNameConfigs().isEmpty());
        assertThrows(UnsupportedOperationException.class, () -> d.moduleTypeConfigs().put("Conv2d", null));
        assertThrows(UnsupportedOperationException.class, () -> d.moduleTypeConfigs().get("Linear").add(D));
    }

    @Test
    void equalityCountsTheOrderOfNameRules() {
        DKMPalettizerConfig ab = DKMPalettizerConfig.defaults().setModuleName("a", null).setModuleName("b", D);
        DKMPalettizerConfig ba = DKMPalettizerConfig.defaults().setModuleName("b", D).setModuleName("a", null);
        assertNotEquals(ab, ba);
        assertEquals(ab, DKMPalettizerConfig.defaults().setModuleName("a", null).setModuleName("b", D));
        assertEquals(DKMPalettizerConfig.defaults().setModuleType("Linear", D),
                DKMPalettizerConfig.defaults().setModuleTypeByThreshold("Linear", List.of(D)),
                "one config is the same as a list of one");
    }

    @Test
    void invalidRegexesAreRefusedWithTheirPath() {
        SpecException e = assertThrows(SpecException.class, () -> DKMPalettizerConfig.defaults().setModuleName("layers.(", D));
        assertTrue(e.getMessage().startsWith("module_name_configs.\"layers.(\": not a valid regular expression"),
                e.getMessage());
    }

    @Test
    void theDefaultGlobalConfigExistsOnlyWithoutAnyRule() {
        assertEquals(DKMPalettizerConfig.defaults(), yaml("dkm_palettization_config: {}"));
        assertEquals(DKMPalettizerConfig.defaults(), yaml("dkm_palettization_config:\n  global_config: {}"));
        assertNull(yaml("dkm_palettization_config:\n  module_name_configs: {lm_head: null}").globalConfig());
        assertNull(yaml("dkm_palettization_config:\n  global_config: null").globalConfig());
        assertEquals(D, yaml("dkm_palettization_config:\n  global_config: {}\n  module_type_configs: {Conv2d: null}")
                .globalConfig());
    }

    private static DKMPalettizerConfig yaml(String text) {
        return DkmConfigFiles.parse(text, ConfigFiles.Format.YAML, "cfg.yaml");
    }
}
