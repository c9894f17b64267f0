package dev.palettizer.config.dkm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.config.ConfigFiles.Format;
import dev.palettizer.spec.ClusterDType;
import dev.palettizer.spec.DkmMode;
import dev.palettizer.spec.KMeansInit;
import dev.palettizer.spec.SpecException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** DKM config documents: the hand-written fixture, YAML and JSON round trips, and errors naming the path. */
class DkmConfigFilesTest {
    private static final ModuleDKMPalettizerConfig D = ModuleDKMPalettizerConfig.defaults();

    @TempDir
    Path dir;

    /** What {@code dkm/every-field.yaml} says, built through the Java API. */
    static DKMPalettizerConfig everyField() {
        ModuleDKMPalettizerConfig global = new ModuleDKMPalettizerConfig(3, 4096, 100, 2, -100, 100, "qint8",
                ClusterDType.I8, false, 64, List.of(1, 0), 0.5, 5, 1e-3, KMeansInit.KMEANS_PP, 512, true, DkmMode.GSM,
                0.001, 0.002, 0.5, true, 0.1);
        return new DKMPalettizerConfig(global, null, null)
                .setModuleTypeByThreshold("Conv2d", List.of(
                        D.toBuilder().nBits(4).clusterDim(4).weightThreshold(1000).build(),
                        D.toBuilder().nBits(2).clusterDim(2).weightThreshold(300).build()))
                .setModuleType("Embedding", null)
                .setModuleType("torch.nn.modules.linear.Linear", D.toBuilder().clusterDType(ClusterDType.U8).quantMin(0)
                        .quantMax(255).palettMode(DkmMode.HARD).kmeansInit(KMeansInit.EFFICIENT_KMEANS).build())
                .setModuleName("lm_head", null)
                .setModuleName("layers\\.0\\..*", D.toBuilder().nBits(8).clusterDType(ClusterDType.BF16).build());
    }

    private static Path fixture() throws URISyntaxException {
        return Path.of(Objects.requireNonNull(DkmConfigFilesTest.class.getResource("/dkm/every-field.yaml")).toURI());
    }

    @Test
    void theHandWrittenFixtureSetsEveryParameter() throws IOException, URISyntaxException {
        DKMPalettizerConfig loaded = DkmConfigFiles.load(fixture());
        assertEquals(everyField(), loaded);
        // Every parameter differs from its default in the global config, except the two whose only legal value is it.
        ModuleDKMPalettizerConfig g = loaded.globalConfig();
        for (DkmFields.Field<?> f : DkmFields.ALL) {
            boolean isDefault = Objects.equals(f.get().apply(g), f.get().apply(D));
            assertEquals(f.name().equals("dtype") || f.name().equals("quantize_activations"), isDefault, f.name());
        }
        try (InputStream in = DkmConfigFilesTest.class.getResourceAsStream("/dkm/every-field.yaml")) {
            String text = new String(Objects.requireNonNull(in).readAllBytes());
            for (String key : DkmFields.NAMES) {
                assertTrue(text.contains("    " + key + ":"), key + " written in the fixture");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"c.yaml", "c.yml", "c.json"})
    void savedFilesLoadBackEqual(String name) throws IOException {
        Path file = dir.resolve(name);
        for (DKMPalettizerConfig c : List.of(everyField(), DKMPalettizerConfig.defaults(),
                new DKMPalettizerConfig(null, null, null), DKMPalettizerConfig.of(D.withNBits(4)))) {
            DkmConfigFiles.save(c, file);
            assertEquals(c, DkmConfigFiles.load(file));
        }
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(1, left.count(), "no temporary file left");
        }
    }

    @Test
    void textsRoundTripDeterministicallyAndTheJsonIsValidYaml() {
        DKMPalettizerConfig c = everyField();
        String yaml = DkmConfigFiles.toYaml(c);
        assertEquals(c, DkmConfigFiles.parse(yaml, Format.YAML, "s"));
        assertEquals(c, DkmConfigFiles.parse(DkmConfigFiles.toJson(c), Format.JSON, "s"));
        assertEquals(c, DkmConfigFiles.parse(DkmConfigFiles.toJson(c), Format.YAML, "s"));
        assertEquals(yaml, DkmConfigFiles.toYaml(DkmConfigFiles.parse(yaml, Format.YAML, "s")));
    }

    @Test
    void documentsUseTheSeedsKeysAndWriteEveryParameter() {
        String yaml = DkmConfigFiles.toYaml(DKMPalettizerConfig.defaults());
        assertTrue(yaml.startsWith("dkm_palettization_config:\n  global_config:\n    n_bits: null\n"
                + "    weight_threshold: 2048\n    milestone: 0\n    cluster_dim: 1\n"), yaml);
        for (String line : new String[] {"quant_min: -128", "quant_max: 127", "dtype: qint8", "cluster_dtype: f32",
                "quantize_activations: false", "partition_size: 2000000000", "cluster_permute: null",
                "palett_max_mem: 1.0", "kmeans_max_iter: 3", "prune_threshold: 0.0", "kmeans_init: cpu.kmeans++",
                "kmeans_opt1d_threshold: 1024", "enforce_zero: false", "palett_mode: dkm", "palett_tau: 1.0E-4",
                "palett_epsilon: 1.0E-4", "palett_lambda: 0.0", "add_extra_centroid: false", "palett_cluster_tol: 0.05"}) {
            assertTrue(yaml.contains("\n    " + line + "\n"), line + " in\n" + yaml);
        }
        String lists = DkmConfigFiles.toYaml(everyField());
        assertTrue(lists.contains("  module_type_configs:\n    Conv2d:\n    - n_bits: 4\n"), lists);
        assertTrue(lists.contains("    Embedding: null\n"), lists);
        assertTrue(lists.contains("    torch.nn.modules.linear.Linear:\n      n_bits: null\n"), lists);
    }

    @Test
    void theDocumentNeedsItsSingleRootKey() {
        assertFails("", "cfg.yaml: the document is empty; expected the key dkm_palettization_config");
        assertFails("global_config: {n_bits: 4}", "cfg.yaml: expected a mapping with the single key"
                + " dkm_palettization_config, got the keys [global_config]");
        assertFails("kmeans_palettization_config: {}", "cfg.yaml: expected a mapping with the single key"
                + " dkm_palettization_config, got the keys [kmeans_palettization_config]");
        assertFails("- 1", "cfg.yaml: expected a mapping with the single key dkm_palettization_config, got a list");
        assertFails("dkm_palettization_config: 3", "cfg.yaml: dkm_palettization_config: expected a mapping, got 3");
    }

    @Test
    void unknownKeysWrongShapesAndSyntaxErrorsNameThePlace() {
        assertFails("dkm_palettization_config:\n  module_configs: {}", "cfg.yaml: module_configs: unknown key; expected"
                + " one of [global_config, module_type_configs, module_name_configs]");
        assertFails("dkm_palettization_config:\n  module_type_configs: {Conv2d: 4}", "cfg.yaml: module_type_configs.Conv2d:"
                + " expected a module config (a mapping), a list of them told apart by weight_threshold, or null, got 4");
        assertFails("dkm_palettization_config:\n  module_type_configs: [Conv2d]", "cfg.yaml: module_type_configs:"
                + " expected a mapping of names to entries, got a list");
        assertFails("dkm_palettization_config:\n  module_type_configs:\n    Conv2d: [{n_bits: 2}, {weight_threshold: x}]",
                "cfg.yaml: module_type_configs.Conv2d[1].weight_threshold: 'x' is not an integer");
        assertFails("dkm_palettization_config:\n  global_config: [1]", "cfg.yaml: global_config: expected a mapping,"
                + " got a list");
        assertFails("dkm_palettization_config:\n  module_name_configs:\n    'a(': null", "cfg.yaml: module_name_configs."
                + "\"a(\": not a valid regular expression");
        assertFails("dkm_palettization_config:\n  global_config: {n_bits: 2, n_bits: 3}", "cfg.yaml: line 2, column");
        assertFails("{\"dkm_palettization_config\": {\"global_config\": {\"palett_tau\": -1}}}",
                "cfg.yaml: global_config.palett_tau: must be a finite number > 0, got -1.0");
        SpecException json = assertThrows(SpecException.class, () -> DkmConfigFiles.parse(
                "{\"dkm_palettization_config\": {\"global_config\": {\"milestone\": -5}}}", Format.JSON, "c.json"));
        assertEquals("c.json: global_config.milestone: must be a step >= 0, got -5", json.getMessage());
        SpecException name = assertThrows(SpecException.class, () -> DkmConfigFiles.save(DKMPalettizerConfig.defaults(),
                dir.resolve("c.txt")));
        assertTrue(name.getMessage().endsWith("a config file name must end in .yaml, .yml or .json"), name.getMessage());
    }

    private static void assertFails(String yaml, String messageStart) {
        SpecException e = assertThrows(SpecException.class, () -> DkmConfigFiles.parse(yaml, Format.YAML, "cfg.yaml"));
        assertTrue(e.getMessage().startsWith(messageStart), e.getMessage());
    }
}
