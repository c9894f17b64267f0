package dev.palettizer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import dev.palettizer.spec.SpecException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** YAML and JSON documents: round trips, the seed's keys and defaults, and errors that name the path. */
class ConfigFilesTest {
    @TempDir
    Path dir;

    /** Every feature at once: null global, type and name rules with nulls, op rules, "*", LUT quantization, vectors. */
    static KMeansPalettizerConfig everything() {
        PalettizationSpec grouped = PalettizationSpec.defaults().withBits(3).withGranularity(Granularity.grouped(1, 16))
                .withPerChannelScale(true);
        PalettizationSpec int8Lut = PalettizationSpec.defaults().withBits(2)
                .withLutQuant(new LutQuantSpec(LutDType.UINT8, QScheme.ASYMMETRIC));
        PalettizationSpec vectors = PalettizationSpec.defaults().withClusterDim(2)
                .withLutQuant(new LutQuantSpec(LutDType.FP8_E4M3, QScheme.SYMMETRIC));
        Map<String, PalettizationSpec> star = new LinkedHashMap<>();
        star.put("*", int8Lut);
        star.put("bias", null);
        ModuleKMeansPalettizerConfig attention = ModuleKMeansPalettizerConfig.defaults().withFastKMeansMode(false)
                .withOpStateSpec(Map.of("weight", vectors))
                .withOpTypeConfig("aten.linear.default", OpKMeansPalettizerConfig.of(grouped))
                .withOpTypeConfig("conv2d", null)
                .withOpNameConfig("attn\\.(q|k)_proj", OpKMeansPalettizerConfig.disabled())
                .withOpNameConfig(".*", new OpKMeansPalettizerConfig(star))
                .withModuleStateSpec("*", PalettizationSpec.defaults().withBits(8))
                .withModuleStateSpec("in_proj_bias", null);
        return new KMeansPalettizerConfig(null, null, null)
                .withModuleTypeConfig("Linear", ModuleKMeansPalettizerConfig.of(grouped).withRoundingPrecision(6))
                .withModuleTypeConfig("torch.nn.modules.conv.Conv2d", null)
                .withModuleNameConfig("layers\\.[0-9]+\\.attn", attention)
                .withModuleNameConfig("lm_head", null)
                .withModuleNameConfig("&weird: \"key\" #x", ModuleKMeansPalettizerConfig.defaults().withOpStateSpec(null));
    }

    @ParameterizedTest
    @ValueSource(strings = {"c.yaml", "c.yml", "c.json"})
    void savedFilesLoadBackEqual(String name) throws IOException {
        KMeansPalettizerConfig c = everything();
        Path file = dir.resolve(name);
        ConfigFiles.save(c, file);
        assertEquals(c, ConfigFiles.load(file));
        ConfigFiles.save(KMeansPalettizerConfig.defaults(), file);
        assertEquals(KMeansPalettizerConfig.defaults(), ConfigFiles.load(file), "saving replaces the file");
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(1, left.count(), "no temporary file left");
        }
    }

    @Test
    void yamlAndJsonTextsRoundTripAndTheJsonIsValidYaml() {
        KMeansPalettizerConfig c = everything();
        assertEquals(c, ConfigFiles.parse(ConfigFiles.toYaml(c), ConfigFiles.Format.YAML, "s"));
        assertEquals(c, ConfigFiles.parse(ConfigFiles.toJson(c), ConfigFiles.Format.JSON, "s"));
        assertEquals(c, ConfigFiles.parse(ConfigFiles.toJson(c), ConfigFiles.Format.YAML, "s"));
        assertEquals(ConfigFiles.toYaml(c), ConfigFiles.toYaml(ConfigFiles.parse(ConfigFiles.toYaml(c),
                ConfigFiles.Format.YAML, "s")), "saving is deterministic");
    }

    @Test
    void documentsUseTheSeedsKeys() {
        String yaml = ConfigFiles.toYaml(KMeansPalettizerConfig.defaults());
        assertTrue(yaml.startsWith("kmeans_palettization_config:\n  global_config:\n    op_state_spec:\n      weight:\n"
                + "        palettization_spec:\n          n_bits: 4\n"), yaml);
        for (String key : new String[] {"lut_qspec: null", "granularity:", "type: per_tensor", "cluster_dim: 1",
                "enable_per_channel_scale: false", "in_proj_weight:", "enable_fast_kmeans_mode: true", "rounding_precision: 4"}) {
            assertTrue(yaml.contains(key), key + " in\n" + yaml);
        }
    }

    private static KMeansPalettizerConfig yaml(String text) {
        return ConfigFiles.parse(text, ConfigFiles.Format.YAML, "test.yaml");
    }

    @Test
    void absentKeysTakeTheSeedsDefaults() {
        assertEquals(KMeansPalettizerConfig.defaults(), yaml("kmeans_palettization_config: {}"));
        assertEquals(KMeansPalettizerConfig.defaults(), yaml("kmeans_palettization_config:\n  global_config: {}"));
        assertEquals(KMeansPalettizerConfig.of(PalettizationSpec.defaults().withBits(2)), yaml("""
                kmeans_palettization_config:
                  global_config:
                    op_state_spec:
                      weight: {n_bits: 2}
                      in_proj_weight: {palettization_spec: {n_bits: 2}}
                """));
        KMeansPalettizerConfig op = yaml("""
                kmeans_palettization_config:
                  global_config:
                    op_type_config:
                      linear: {}
                """);
        assertEquals(OpKMeansPalettizerConfig.defaults(), op.globalConfig().opTypeConfig().get("linear"));
    }

    @Test
    void theDefaultGlobalConfigExistsOnlyWithoutAnyRule() {
        KMeansPalettizerConfig named = yaml("""
                kmeans_palettization_config:
                  module_name_configs:
                    "layers\\\\..*": {}
                """);
        assertNull(named.globalConfig(), "seed 001: rules without a global config palettize only what they name");
        assertEquals(ModuleKMeansPalettizerConfig.defaults(), named.moduleNameConfigs().get("layers\\..*"));
        assertNull(yaml("kmeans_palettization_config: {global_config: null}").globalConfig());
        assertEquals(ModuleKMeansPalettizerConfig.defaults(), yaml("kmeans_palettization_config: {module_type_configs: {}}")
                .globalConfig(), "empty rule maps are no rules");
    }

    @Test
    void nullValuesKeepTheirMeaning() {
        KMeansPalettizerConfig c = yaml("""
                kmeans_palettization_config:
                  global_config:
                    op_state_spec: null
                    op_name_config: {fc: null}
                    module_state_spec: {"*": null, weight: ~}
                  module_type_configs: {Linear: null}
                """);
        assertNull(c.globalConfig().opStateSpec());
        assertTrue(c.globalConfig().opNameConfig().containsKey("fc"));
        assertNull(c.globalConfig().opNameConfig().get("fc"));
        assertEquals(2, c.globalConfig().moduleStateSpec().size());
        assertTrue(c.moduleTypeConfigs().containsKey("Linear"));
    }

    @Test
    void specFieldsUseSeed003sNamesAndTorchDtypeNames() {
        KMeansPalettizerConfig c = yaml("""
                kmeans_palettization_config:
                  global_config:
                    enable_fast_kmeans_mode: false
                    op_state_spec:
                      weight:
                        palettization_spec:
                          n_bits: 6
                          lut_qspec: {dtype: torch.float8_e4m3fn, qscheme: SYMMETRIC, qformulation: zp}
                          granularity: {type: per_channel, axis: 1}
                          cluster_dim: 4
                          enable_per_channel_scale: true
                """);
        assertEquals(new PalettizationSpec(6, new LutQuantSpec(LutDType.FP8_E4M3, QScheme.SYMMETRIC),
                Granularity.perChannel(1), 4, true), c.globalConfig().opStateSpec().get("weight"));
    }

    static Stream<Arguments> badDocuments() {
        String head = "kmeans_palettization_config:\n";
        String weight = head + "  module_name_configs:\n    \"layer.*\":\n      op_state_spec:\n        weight:\n";
        return Stream.of(
                Arguments.of("n_bits 5", weight + "          n_bits: 5\n",
                        "test.yaml: module_name_configs.\"layer.*\".op_state_spec.weight.n_bits: 5 is not one of {1, 2, 3, 4, 6, 8}"),
                Arguments.of("n_bits in the seed's wrapper", weight + "          palettization_spec: {n_bits: '4'}\n",
                        "test.yaml: module_name_configs.\"layer.*\".op_state_spec.weight.palettization_spec.n_bits: '4' is not"
                                + " one of {1, 2, 3, 4, 6, 8}"),
                Arguments.of("unknown spec key", weight + "          nbits: 4\n",
                        "test.yaml: module_name_configs.\"layer.*\".op_state_spec.weight.nbits: unknown key; expected one of"
                                + " [n_bits, lut_qspec, granularity, cluster_dim, enable_per_channel_scale, outlier_fraction]"),
                Arguments.of("unknown module key", head + "  global_config: {op_state_specs: {}}\n",
                        "test.yaml: global_config.op_state_specs: unknown key; expected one of [op_state_spec, op_type_config,"
                                + " op_name_config, module_state_spec, enable_fast_kmeans_mode, rounding_precision]"),
                Arguments.of("unknown config key", head + "  global: {}\n",
                        "test.yaml: global: unknown key; expected one of [global_config, module_type_configs, module_name_configs]"),
                Arguments.of("unknown op key", head + "  global_config: {op_type_config: {linear: {op_state_spec: {}, x: 1}}}\n",
                        "test.yaml: global_config.op_type_config.linear.x: unknown key; expected one of [op_state_spec]"),
                Arguments.of("fast mode and cluster_dim 2", weight + "          cluster_dim: 2\n",
                        "test.yaml: module_name_configs.\"layer.*\".op_state_spec.weight: cluster_dim 2 is not supported with"
                                + " enable_fast_kmeans_mode true (fast mode rounds scalar values); set enable_fast_kmeans_mode:"
                                + " false in this module config, or cluster_dim: 1"),
                Arguments.of("bad module regex", head + "  module_name_configs:\n    \"layer.[\": null\n",
                        "test.yaml: module_name_configs.\"layer.[\": not a valid regular expression: Unclosed character class"
                                + " near index 6"),
                Arguments.of("bad op regex", head + "  global_config: {op_name_config: {\"+x\": null}}\n",
                        "test.yaml: global_config.op_name_config.\"+x\": not a valid regular expression: Dangling meta"
                                + " character '+' near index 0"),
                Arguments.of("rounding precision", head + "  global_config: {rounding_precision: 0}\n",
                        "test.yaml: global_config.rounding_precision: 0 is not an integer >= 1"),
                Arguments.of("fast mode type", head + "  global_config: {enable_fast_kmeans_mode: 'yes'}\n",
                        "test.yaml: global_config.enable_fast_kmeans_mode: 'yes' is not true or false"),
                Arguments.of("granularity type", weight + "          granularity: {type: per_row}\n",
                        "test.yaml: module_name_configs.\"layer.*\".op_state_spec.weight.granularity.type: 'per_row' is not one"
                                + " of {per_tensor, per_channel, per_grouped_channel}"),
                Arguments.of("group size missing", weight + "          granularity: {type: per_grouped_channel}\n",
                        "test.yaml: module_name_configs.\"layer.*\".op_state_spec.weight.granularity.group_size: missing;"
                                + " per_grouped_channel needs the channels per LUT (1 = per channel)"),
                Arguments.of("group size zero", weight + "          granularity: {type: per_grouped_channel, group_size: 0}\n",
                        "test.yaml: module_name_configs.\"layer.*\".op_state_spec.weight.granularity.group_size: 0 is not an"
                                + " integer >= 1"),
                Arguments.of("axis", weight + "          granularity: {type: per_channel, axis: 2}\n",
                        "test.yaml: module_name_configs.\"layer.*\".op_state_spec.weight.granularity.axis: 2 is not 0 (output"
                                + " channels) or 1 (input channels)"),
                Arguments.of("lut dtype", weight + "          lut_qspec: {dtype: int4}\n",
                        "test.yaml: module_name_configs.\"layer.*\".op_state_spec.weight.lut_qspec.dtype: 'int4' is not one of"
                                + " {int8, uint8, fp8_e4m3, fp8_e5m2}"),
                Arguments.of("fp8 asymmetric", weight + "          lut_qspec: {dtype: fp8_e5m2, qscheme: asymmetric}\n",
                        "test.yaml: module_name_configs.\"layer.*\".op_state_spec.weight.lut_qspec: lut_qspec.dtype fp8_e5m2"
                                + " needs qscheme symmetric, got asymmetric (fp8 LUTs have no zero point; use int8/uint8 for"
                                + " asymmetric)"),
                Arguments.of("minval", weight + "          lut_qspec: {dtype: int8, qformulation: minval}\n",
                        "test.yaml: module_name_configs.\"layer.*\".op_state_spec.weight.lut_qspec: lut_qspec.qformulation"
                                + "=MINVAL is not supported for palettization; use ZP"),
                Arguments.of("list instead of mapping", head + "  module_type_configs: [Linear]\n",
                        "test.yaml: module_type_configs: expected a mapping of names to entries, got a list"),
                Arguments.of("missing top-level key", "global_config: {}\n",
                        "test.yaml: expected a mapping with the key kmeans_palettization_config and optionally"
                                + " [target_bits], got the keys [global_config]"),
                Arguments.of("empty", "", "test.yaml: the document is empty; expected the key kmeans_palettization_config"),
                Arguments.of("duplicate key", head + "  global_config: {}\n  global_config: null\n",
                        "test.yaml: line 3, column 16: Duplicate field 'global_config'"),
                Arguments.of("unquoted star", head + "  global_config:\n    module_state_spec:\n      *: null\n",
                        "test.yaml: line 4, column 8: while scanning an alias; unexpected character found :(58) (quote keys"
                                + " that start with *, such as \"*\")"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badDocuments")
    void badDocumentsFailWithTheFileThePathAndWhatIsAllowed(String label, String text, String message) {
        assertEquals(message, assertThrows(SpecException.class, () -> yaml(text)).getMessage());
    }

    @Test
    void loadingNamesTheFileAndSavingNeedsAKnownExtension() throws IOException {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "kmeans_palettization_config: {global_config: {rounding_precision: -1}}\n");
        assertEquals(bad + ": global_config.rounding_precision: -1 is not an integer >= 1",
                assertThrows(SpecException.class, () -> ConfigFiles.load(bad)).getMessage());
        Path json = dir.resolve("bad.json");
        Files.writeString(json, "{\"kmeans_palettization_config\": {\"global_config\": 3}}");
        assertEquals(json + ": global_config: expected a mapping, got 3",
                assertThrows(SpecException.class, () -> ConfigFiles.load(json)).getMessage());
        Path txt = dir.resolve("c.txt");
        assertTrue(assertThrows(SpecException.class, () -> ConfigFiles.save(KMeansPalettizerConfig.defaults(), txt))
                .getMessage().contains("must end in .yaml, .yml or .json"));
        assertFalse(Files.exists(txt));
    }
}
