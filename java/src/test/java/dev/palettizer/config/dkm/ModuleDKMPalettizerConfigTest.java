package dev.palettizer.config.dkm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.palettizer.config.ConfigFiles;
import dev.palettizer.spec.ClusterDType;
import dev.palettizer.spec.DkmMode;
import dev.palettizer.spec.DkmSpec;
import dev.palettizer.spec.KMeansInit;
import dev.palettizer.spec.SpecException;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seed 004's parameters one by one: each one's default (from the Java API and from an empty document)
 * and each validation rule (from the builder, and from a file, where the message carries the path).
 */
class ModuleDKMPalettizerConfigTest {
    private static final String PATH = "cfg.yaml: module_name_configs.\"layers\\\\.0\\\\..*\".";

    private static Arguments param(String key, Function<ModuleDKMPalettizerConfig, Object> get, Object expected) {
        return arguments(key, get, expected);
    }

    static Stream<Arguments> defaults() {
        return Stream.of(
                param("n_bits", ModuleDKMPalettizerConfig::nBits, null),
                param("weight_threshold", ModuleDKMPalettizerConfig::weightThreshold, 2048L),
                param("milestone", ModuleDKMPalettizerConfig::milestone, 0),
                param("cluster_dim", ModuleDKMPalettizerConfig::clusterDim, 1),
                param("quant_min", ModuleDKMPalettizerConfig::quantMin, -128),
                param("quant_max", ModuleDKMPalettizerConfig::quantMax, 127),
                param("dtype", ModuleDKMPalettizerConfig::dtype, "qint8"),
                param("cluster_dtype", ModuleDKMPalettizerConfig::clusterDType, ClusterDType.F32),
                param("quantize_activations", ModuleDKMPalettizerConfig::quantizeActivations, false),
                param("partition_size", ModuleDKMPalettizerConfig::partitionSize, 2_000_000_000L),
                param("cluster_permute", ModuleDKMPalettizerConfig::clusterPermute, null),
                param("palett_max_mem", ModuleDKMPalettizerConfig::palettMaxMem, 1.0),
                param("kmeans_max_iter", ModuleDKMPalettizerConfig::kmeansMaxIter, 3),
                param("prune_threshold", ModuleDKMPalettizerConfig::pruneThreshold, 0.0),
                param("kmeans_init", ModuleDKMPalettizerConfig::kmeansInit, KMeansInit.CPU_KMEANS_PP),
                param("kmeans_opt1d_threshold", ModuleDKMPalettizerConfig::kmeansOpt1dThreshold, 1024),
                param("enforce_zero", ModuleDKMPalettizerConfig::enforceZero, false),
                param("palett_mode", ModuleDKMPalettizerConfig::palettMode, DkmMode.DKM),
                param("palett_tau", ModuleDKMPalettizerConfig::palettTau, 1e-4),
                param("palett_epsilon", ModuleDKMPalettizerConfig::palettEpsilon, 1e-4),
                param("palett_lambda", ModuleDKMPalettizerConfig::palettLambda, 0.0),
                param("add_extra_centroid", ModuleDKMPalettizerConfig::addExtraCentroid, false),
                param("palett_cluster_tol", ModuleDKMPalettizerConfig::palettClusterTol, 0.05));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void defaults(String key, Function<ModuleDKMPalettizerConfig, Object> get, Object expected) {
        assertEquals(expected, get.apply(ModuleDKMPalettizerConfig.defaults()), key + " from the Java API");
        assertEquals(expected, get.apply(ModuleDKMPalettizerConfig.builder().build()), key + " from the builder");
        DKMPalettizerConfig empty = DkmConfigFiles.parse("dkm_palettization_config:\n  global_config: {}\n",
                ConfigFiles.Format.YAML, "cfg.yaml");
        assertEquals(expected, get.apply(empty.globalConfig()), key + " absent from a document");
    }

    @Test
    void everyParameterOfTheSeedHasItsDefaultTested() {
        Set<String> tested = defaults().map(a -> (String) a.get()[0]).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(DkmFields.NAMES), tested);
        assertEquals(23, DkmFields.NAMES.size(), "seed 004 lists 23 parameters");
    }

    @Test
    void theDefaultsResolveToDkmSpecsDefaultsWithFourBitsForLinearAndTwoForOthers() {
        ModuleDKMPalettizerConfig d = ModuleDKMPalettizerConfig.defaults();
        assertEquals(DkmSpec.defaults(4), d.spec("Linear", 0));
        assertEquals(DkmSpec.defaults(2), d.spec("Conv2d", 0));
        assertEquals(DkmSpec.defaults(2), d.spec("Embedding", 0));
        assertEquals(DkmSpec.defaults(2), d.spec("MultiheadAttention", 0));
        assertEquals(DkmSpec.defaults(2), d.spec("", 0));
        assertEquals(6, d.withNBits(6).spec("Linear", 0).nBits(), "a set n_bits wins over both type defaults");
        assertEquals(6, d.withNBits(6).spec("Conv2d", 0).nBits());
        assertEquals(42L, d.spec("Linear", 42).seed());
    }

    @Test
    void everyFieldReachesTheSpec() {
        ModuleDKMPalettizerConfig m = ModuleDKMPalettizerConfig.builder().nBits(3).clusterDim(2)
                .clusterDType(ClusterDType.U8).quantMin(0).quantMax(255).partitionSize(8).clusterPermute(List.of(1, 0))
                .kmeansMaxIter(7).pruneThreshold(0.01).kmeansInit(KMeansInit.EFFICIENT_KMEANS).kmeansOpt1dThreshold(9)
                .enforceZero(true).palettMode(DkmMode.GSM).palettTau(0.5).palettEpsilon(0.25).palettLambda(0.125)
                .addExtraCentroid(true).palettClusterTol(0.75).build();
        assertEquals(new DkmSpec(3, 2, 7, 0.5, 0.25, 0.125, DkmMode.GSM, ClusterDType.U8, 0, 255, true, 0.01, true,
                0.75, KMeansInit.EFFICIENT_KMEANS, 9, 8, List.of(1, 0), 5), m.spec("Linear", 5));
    }

    @Test
    void withersAndBuildersReturnNewConfigs() {
        ModuleDKMPalettizerConfig d = ModuleDKMPalettizerConfig.defaults();
        ModuleDKMPalettizerConfig m = d.withNBits(4).withWeightThreshold(10).withMilestone(7);
        assertEquals(4, m.nBits());
        assertEquals(10, m.weightThreshold());
        assertEquals(7, m.milestone());
        assertNull(d.nBits());
        assertEquals(ModuleDKMPalettizerConfig.defaults(), d);
        assertEquals(m, m.toBuilder().build());
    }

    @Test
    void theSeedsSpellingsAreNormalised() {
        assertEquals("qint8", ModuleDKMPalettizerConfig.builder().dtype("torch.qint8").build().dtype());
        assertNull(ModuleDKMPalettizerConfig.builder().clusterPermute(List.of()).build().clusterPermute(),
                "an empty permutation is none");
    }

    /** Each rule: the builder's change, the same in a document, and the message after the parameter's path. */
    static Stream<Arguments> invalid() {
        return Stream.of(
                bad("n_bits", "0", b -> b.nBits(0), "n_bits: must be in 1..8, got 0"),
                bad("n_bits", "9", b -> b.nBits(9), "n_bits: must be in 1..8, got 9"),
                bad("weight_threshold", "-1", b -> b.weightThreshold(-1), "weight_threshold: must be >= 0"),
                bad("milestone", "-1", b -> b.milestone(-1), "milestone: must be a step >= 0, got -1"),
                bad("cluster_dim", "0", b -> b.clusterDim(0), "cluster_dim: must be >= 1, got 0"),
                bad("quant_min", "-100", b -> b.quantMin(-100),
                        "quant_min: -100 applies only to an integer cluster_dtype (i8, u8)"),
                bad("quant_max", "100", b -> b.quantMax(100),
                        "quant_max: 100 applies only to an integer cluster_dtype (i8, u8)"),
                bad("quant_min", "{cluster_dtype: i8, quant_min: 5, quant_max: 5}",
                        b -> b.clusterDType(ClusterDType.I8).quantMin(5).quantMax(5),
                        "quant_min: must be < quant_max, got 5 and 5"),
                bad("cluster_dtype", "{cluster_dtype: i8, quant_min: -129}",
                        b -> b.clusterDType(ClusterDType.I8).quantMin(-129),
                        "cluster_dtype: i8 needs -128 <= quant_min < quant_max <= 127, got -129..127"),
                bad("cluster_dtype", "u8", b -> b.clusterDType(ClusterDType.U8),
                        "cluster_dtype: u8 needs 0 <= quant_min < quant_max <= 255, got -128..127 (set quant_min: 0 and quant_max: 255)"),
                bad("dtype", "quint8", b -> b.dtype("quint8"),
                        "dtype: 'quint8' only applies to activation quantization (quantize_activations), which"
                                + " DKMPalettizer does not do (it belongs to the trainer's graph); remove dtype or set it to qint8"),
                bad("quantize_activations", "true", b -> b.quantizeActivations(true),
                        "quantize_activations: true is not supported: DKMPalettizer palettizes weights and does not"
                                + " quantize activations, which belongs to the trainer's graph"),
                bad("partition_size", "0", b -> b.partitionSize(0), "partition_size: must be >= 1, got 0"),
                bad("cluster_permute", "[0, 0]", b -> b.clusterPermute(List.of(0, 0)),
                        "cluster_permute: must be a permutation of 0..1, got [0, 0]"),
                bad("cluster_permute", "[2]", b -> b.clusterPermute(List.of(2)),
                        "cluster_permute: must be a permutation of 0..0, got [2]"),
                bad("palett_max_mem", "0", b -> b.palettMaxMem(0), "palett_max_mem: must be a fraction of the"
                        + " accelerator's memory in (0, 1], got 0.0"),
                bad("palett_max_mem", "1.5", b -> b.palettMaxMem(1.5), "palett_max_mem: must be a fraction"),
                bad("palett_max_mem", "-1", b -> b.palettMaxMem(Double.NaN), "palett_max_mem: must be a fraction"),
                bad("kmeans_max_iter", "0", b -> b.kmeansMaxIter(0), "kmeans_max_iter: must be >= 1, got 0"),
                bad("prune_threshold", "-0.5", b -> b.pruneThreshold(-0.5),
                        "prune_threshold: must be a finite number >= 0, got -0.5"),
                bad("kmeans_opt1d_threshold", "-1", b -> b.kmeansOpt1dThreshold(-1),
                        "kmeans_opt1d_threshold: must be >= 0, got -1"),
                bad("palett_tau", "0", b -> b.palettTau(0), "palett_tau: must be a finite number > 0, got 0.0"),
                bad("palett_tau", "1e999", b -> b.palettTau(Double.POSITIVE_INFINITY),
                        "palett_tau: must be a finite number > 0, got Infinity"),
                bad("palett_epsilon", "-1e-4", b -> b.palettEpsilon(-1e-4),
                        "palett_epsilon: must be a finite number >= 0, got -1.0E-4"),
                bad("palett_lambda", "-1", b -> b.palettLambda(-1), "palett_lambda: must be a finite number >= 0, got -1.0"),
                bad("palett_cluster_tol", "-0.05", b -> b.palettClusterTol(-0.05),
                        "palett_cluster_tol: must be a finite number >= 0, got -0.05"),
                bad("cluster_dtype", "{cluster_dtype: null}", b -> b.clusterDType(null),
                        "cluster_dtype: missing; it has a default, leave the key out to take it",
                        "cluster_dtype: null is not one of {i8, u8, f16, bf16, f32}"),
                bad("kmeans_init", "{kmeans_init: null}", b -> b.kmeansInit(null), "kmeans_init: missing",
                        "kmeans_init: null is not one of {cpu.kmeans++, kmeans_pp, efficient_kmeans}"),
                bad("palett_mode", "{palett_mode: null}", b -> b.palettMode(null), "palett_mode: missing",
                        "palett_mode: null is not one of {dkm, gsm, hard}"));
    }

    private static Arguments bad(String key, String yaml, UnaryOperator<ModuleDKMPalettizerConfig.Builder> change,
                                 String message) {
        return bad(key, yaml, change, message, message);
    }

    /** {@code yaml} is the parameter's value, or the whole module config when it is a mapping. */
    private static Arguments bad(String key, String yaml, UnaryOperator<ModuleDKMPalettizerConfig.Builder> change,
                                 String message, String inFile) {
        return arguments(key, yaml.startsWith("{") ? yaml : "{" + key + ": " + yaml + "}", change, message, inFile);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource
    void invalid(String key, String module, UnaryOperator<ModuleDKMPalettizerConfig.Builder> change, String message,
                 String inFile) {
        SpecException api = assertThrows(SpecException.class, () -> change.apply(ModuleDKMPalettizerConfig.builder()).build());
        assertStartsWith(message, api.getMessage());
        SpecException file = assertThrows(SpecException.class, () -> inDocument(module));
        assertStartsWith(PATH + inFile, file.getMessage());
    }

    /** A module config as the value of a regex module name rule, so messages show a quoted path. */
    private static DKMPalettizerConfig inDocument(String moduleYaml) {
        return DkmConfigFiles.parse("dkm_palettization_config:\n  module_name_configs:\n    'layers\\.0\\..*': "
                + moduleYaml + "\n", ConfigFiles.Format.YAML, "cfg.yaml");
    }

    /** Values of the wrong type are refused by the reader, at the parameter's path. */
    static Stream<Arguments> wrongTypes() {
        return Stream.of(
                arguments("n_bits", "four", "'four' is not an integer"),
                arguments("n_bits", "4.5", "4.5 is not an integer"),
                arguments("weight_threshold", "1e3", "1000.0 is not an integer"),
                arguments("milestone", "99999999999", "99999999999 is not an integer that fits 32 bits"),
                arguments("cluster_dim", "[2]", "a list is not an integer"),
                arguments("quant_min", "'-1'", "'-1' is not an integer"),
                arguments("quant_max", "127.0", "127.0 is not an integer"),
                arguments("dtype", "8", "8 is not a string"),
                arguments("cluster_dtype", "f64", "'f64' is not one of {i8, u8, f16, bf16, f32}"),
                arguments("cluster_dtype", "F32", "'F32' is not one of {i8, u8, f16, bf16, f32}"),
                arguments("quantize_activations", "1", "1 is not true or false"),
                arguments("partition_size", "big", "'big' is not an integer"),
                arguments("cluster_permute", "5", "expected a list of integers, got 5"),
                arguments("cluster_permute[1]", "[0, 1.5]", "1.5 is not an integer"),
                arguments("palett_max_mem", "half", "'half' is not a number"),
                arguments("kmeans_max_iter", "null", "null is not an integer"),
                arguments("prune_threshold", "{}", "a mapping is not a number"),
                arguments("kmeans_init", "kmeans", "'kmeans' is not one of {cpu.kmeans++, kmeans_pp, efficient_kmeans}"),
                arguments("kmeans_opt1d_threshold", "true", "true is not an integer"),
                arguments("enforce_zero", "'true'", "'true' is not true or false"),
                arguments("palett_mode", "soft", "'soft' is not one of {dkm, gsm, hard}"),
                arguments("palett_tau", "'1e-4'", "'1e-4' is not a number"),
                arguments("palett_epsilon", "[]", "a list is not a number"),
                arguments("palett_lambda", "false", "false is not a number"),
                arguments("add_extra_centroid", "0", "0 is not true or false"),
                arguments("palett_cluster_tol", "null", "null is not a number"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource
    void wrongTypes(String at, String yaml, String detail) {
        String key = at.replaceFirst("\\[.*", "");
        SpecException e = assertThrows(SpecException.class, () -> inDocument("{" + key + ": " + yaml + "}"));
        assertEquals(PATH + at + ": " + detail, e.getMessage());
    }

    @Test
    void everyParameterHasItsValidationTested() {
        Set<String> tested = Stream.concat(invalid().map(a -> (String) a.get()[0]),
                wrongTypes().map(a -> ((String) a.get()[0]).replaceFirst("\\[.*", "")))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(DkmFields.NAMES), tested);
    }

    @Test
    void unknownKeysAreRefusedWithTheKnownOnes() {
        SpecException e = assertThrows(SpecException.class, () -> inDocument("{palett_temperature: 1.0}"));
        assertEquals(PATH + "palett_temperature: unknown key; expected one of " + DkmFields.NAMES, e.getMessage());
    }

    @Test
    void theSeedsOptionalParametersAcceptNullAsTheirDefault() {
        DKMPalettizerConfig c = inDocument("{n_bits: null, cluster_dim: null, cluster_permute: null}");
        assertEquals(ModuleDKMPalettizerConfig.defaults(), c.moduleNameConfigs().firstEntry().getValue());
    }

    private static void assertStartsWith(String prefix, String actual) {
        if (!actual.startsWith(prefix)) {
            assertEquals(prefix, actual, "expected a message starting with the first");
        }
    }
}
