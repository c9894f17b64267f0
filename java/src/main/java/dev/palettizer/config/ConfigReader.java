package dev.palettizer.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Turns a parsed YAML or JSON document into a config, strictly: unknown keys, wrong types and bad
 * values fail with the source, the path in the document and what is allowed. Absent keys take the
 * seed's defaults; null values keep their seed meaning (disable).
 */
final class ConfigReader {
    static final String CONFIG_KEY = "kmeans_palettization_config";
    static final String SPEC_KEY = "palettization_spec";
    /** Top-level key next to {@link #CONFIG_KEY}: an average bit budget for {@code palettize} (not part of the rules). */
    static final String TARGET_BITS_KEY = "target_bits";

    static final List<String> CONFIG_FIELDS = List.of("global_config", "module_type_configs", "module_name_configs");
    static final List<String> MODULE_FIELDS = List.of("op_state_spec", "op_type_config", "op_name_config",
            "module_state_spec", "enable_fast_kmeans_mode", "rounding_precision");
    static final List<String> OP_FIELDS = List.of("op_state_spec");
    static final List<String> SPEC_FIELDS = List.of("n_bits", "lut_qspec", "granularity", "cluster_dim",
            "enable_per_channel_scale", "outlier_fraction");
    static final List<String> LUT_FIELDS = List.of("dtype", "qscheme", "qformulation");
    static final String PER_TENSOR = "per_tensor";
    static final String PER_CHANNEL = "per_channel";
    static final String PER_GROUPED_CHANNEL = "per_grouped_channel";
    /** Granularity key: groups along axis 0 whose size does not divide the rows end in a smaller one. */
    static final String RAGGED_LAST_GROUP = "allow_ragged_last_group";
    /** The seed's torch dtype names, accepted next to ours. */
    private static final Map<String, LutDType> TORCH_LUT_DTYPES = Map.of(
            "float8_e4m3fn", LutDType.FP8_E4M3, "float8_e5m2", LutDType.FP8_E5M2);

    private final DocumentReader doc;

    ConfigReader(String source) {
        this.doc = new DocumentReader(source, CONFIG_KEY);
    }

    KMeansPalettizerConfig document(JsonNode root) {
        return config(doc.root(root, List.of(TARGET_BITS_KEY)));
    }

    /** The document's {@code target_bits}, a number (its range is the budget's to check), or empty. */
    OptionalDouble targetBits(JsonNode root) {
        doc.root(root, List.of(TARGET_BITS_KEY));
        JsonNode node = root.get(TARGET_BITS_KEY);
        return node == null ? OptionalDouble.empty()
                : OptionalDouble.of(doc.number(node, ConfigPath.ROOT.resolve(TARGET_BITS_KEY)));
    }

    private KMeansPalettizerConfig config(JsonNode node) {
        ConfigPath at = ConfigPath.ROOT;
        doc.object(node, at, CONFIG_FIELDS);
        Map<String, ModuleKMeansPalettizerConfig> types = doc.entriesIn(node, at, "module_type_configs", this::module);
        LinkedHashMap<String, ModuleKMeansPalettizerConfig> names = doc.entriesIn(node, at, "module_name_configs", this::module);
        // Seed 001: the default global config exists only when no rule at all is given; say null to disable it.
        ModuleKMeansPalettizerConfig global = !node.has("global_config")
                ? (types.isEmpty() && names.isEmpty() ? ModuleKMeansPalettizerConfig.defaults() : null)
                : DocumentReader.nullable(node.get("global_config"), at.resolve("global_config"), this::module);
        return doc.build(at, () -> new KMeansPalettizerConfig(global, types, names));
    }

    private ModuleKMeansPalettizerConfig module(JsonNode node, ConfigPath at) {
        doc.object(node, at, MODULE_FIELDS);
        Map<String, PalettizationSpec> opStateSpec = stateSpecsOrDefault(node, at);
        Map<String, OpKMeansPalettizerConfig> types = doc.entriesIn(node, at, "op_type_config", this::op);
        LinkedHashMap<String, OpKMeansPalettizerConfig> names = doc.entriesIn(node, at, "op_name_config", this::op);
        Map<String, PalettizationSpec> moduleStates = doc.entriesIn(node, at, "module_state_spec", this::stateSpec);
        boolean fast = node.has("enable_fast_kmeans_mode")
                ? doc.bool(node.get("enable_fast_kmeans_mode"), at.resolve("enable_fast_kmeans_mode"))
                : ModuleKMeansPalettizerConfig.DEFAULT_FAST_MODE;
        int rounding = node.has("rounding_precision")
                ? doc.positiveInt(node.get("rounding_precision"), at.resolve("rounding_precision"))
                : ModuleKMeansPalettizerConfig.DEFAULT_ROUNDING_PRECISION;
        return doc.build(at, () -> new ModuleKMeansPalettizerConfig(opStateSpec, types, names, moduleStates, fast, rounding));
    }

    private OpKMeansPalettizerConfig op(JsonNode node, ConfigPath at) {
        doc.object(node, at, OP_FIELDS);
        return new OpKMeansPalettizerConfig(stateSpecsOrDefault(node, at));
    }

    /** {@code op_state_spec}: absent is the seed's default, null palettizes no op state. */
    private Map<String, PalettizationSpec> stateSpecsOrDefault(JsonNode owner, ConfigPath at) {
        if (!owner.has("op_state_spec")) {
            return OpKMeansPalettizerConfig.defaultStateSpec(PalettizationSpec.defaults());
        }
        return DocumentReader.nullable(owner.get("op_state_spec"), at.resolve("op_state_spec"),
                (n, p) -> doc.entries(n, p, this::stateSpec));
    }

    /** A spec, written as the seed does ({@code {palettization_spec: {...}}}) or bare ({@code {n_bits: 2}}). */
    private PalettizationSpec stateSpec(JsonNode node, ConfigPath at) {
        if (node.isObject() && node.size() == 1 && node.has(SPEC_KEY)) {
            return spec(node.get(SPEC_KEY), at.resolve(SPEC_KEY));
        }
        return spec(node, at);
    }

    private PalettizationSpec spec(JsonNode node, ConfigPath at) {
        doc.object(node, at, SPEC_FIELDS);
        PalettizationSpec d = PalettizationSpec.defaults();
        int bits = node.has("n_bits") ? nBits(node.get("n_bits"), at.resolve("n_bits")) : d.nBits();
        LutQuantSpec lut = node.has("lut_qspec")
                ? DocumentReader.nullable(node.get("lut_qspec"), at.resolve("lut_qspec"), this::lutQuant)
                : d.lutQuant();
        Granularity granularity = node.has("granularity")
                ? granularity(node.get("granularity"), at.resolve("granularity")) : d.granularity();
        int clusterDim = node.has("cluster_dim") ? doc.positiveInt(node.get("cluster_dim"), at.resolve("cluster_dim"))
                : d.clusterDim();
        boolean scale = node.has("enable_per_channel_scale")
                ? doc.bool(node.get("enable_per_channel_scale"), at.resolve("enable_per_channel_scale")) : d.perChannelScale();
        double outliers = node.has("outlier_fraction")
                ? outlierFraction(node.get("outlier_fraction"), at.resolve("outlier_fraction")) : d.outlierFraction();
        return doc.leaf(at, () -> new PalettizationSpec(bits, lut, granularity, clusterDim, scale, outliers));
    }

    /** A share of the elements, checked here so the message names the key. */
    private double outlierFraction(JsonNode node, ConfigPath at) {
        double fraction = doc.number(node, at);
        return doc.leaf(at, () -> PalettizationSpec.defaults().withOutlierFraction(fraction).outlierFraction());
    }

    private int nBits(JsonNode node, ConfigPath at) {
        if (node.isIntegralNumber() && node.canConvertToInt() && PalettizationSpec.ALLOWED_BITS.contains(node.intValue())) {
            return node.intValue();
        }
        throw doc.fail(at, DocumentReader.describe(node) + " is not one of {1, 2, 3, 4, 6, 8}");
    }

    private Granularity granularity(JsonNode node, ConfigPath at) {
        if (!node.isObject() || !node.has("type")) {
            throw doc.fail(at, "expected a mapping with a type (" + PER_TENSOR + ", " + PER_CHANNEL + " or "
                    + PER_GROUPED_CHANNEL + "), got " + DocumentReader.describe(node));
        }
        String type = doc.text(node.get("type"), at.resolve("type"));
        return switch (type) {
            case PER_TENSOR -> {
                doc.object(node, at, List.of("type"));
                yield Granularity.perTensor();
            }
            case PER_CHANNEL -> {
                doc.object(node, at, List.of("type", "axis"));
                yield Granularity.perChannel(axis(node, at));
            }
            case PER_GROUPED_CHANNEL -> {
                doc.object(node, at, List.of("type", "axis", "group_size", RAGGED_LAST_GROUP));
                if (!node.has("group_size")) {
                    throw doc.fail(at.resolve("group_size"), "missing; " + PER_GROUPED_CHANNEL
                            + " needs the channels per LUT (1 = per channel)");
                }
                int axis = axis(node, at);
                int size = doc.positiveInt(node.get("group_size"), at.resolve("group_size"));
                boolean ragged = node.has(RAGGED_LAST_GROUP)
                        && doc.bool(node.get(RAGGED_LAST_GROUP), at.resolve(RAGGED_LAST_GROUP));
                yield doc.leaf(at.resolve(RAGGED_LAST_GROUP), () -> new Granularity.PerGroupedChannel(axis, size, ragged));
            }
            default -> throw doc.fail(at.resolve("type"), "'" + type + "' is not one of {" + PER_TENSOR + ", "
                    + PER_CHANNEL + ", " + PER_GROUPED_CHANNEL + "}");
        };
    }

    private int axis(JsonNode granularity, ConfigPath at) {
        JsonNode node = granularity.get("axis");
        if (node == null) {
            return 0;
        }
        if (node.isIntegralNumber() && (node.intValue() == 0 || node.intValue() == 1) && node.canConvertToInt()) {
            return node.intValue();
        }
        throw doc.fail(at.resolve("axis"), DocumentReader.describe(node) + " is not 0 (output channels) or 1 (input channels)");
    }

    private LutQuantSpec lutQuant(JsonNode node, ConfigPath at) {
        doc.object(node, at, LUT_FIELDS);
        if (!node.has("dtype")) {
            throw doc.fail(at.resolve("dtype"), "missing; one of " + LutDType.allowed());
        }
        LutDType dtype = lutDType(node.get("dtype"), at.resolve("dtype"));
        QScheme scheme = QScheme.SYMMETRIC;
        if (node.has("qscheme")) {
            String q = doc.text(node.get("qscheme"), at.resolve("qscheme"));
            scheme = doc.oneOf(at.resolve("qscheme"), q, "{symmetric, asymmetric}", () -> QScheme.parse(q));
        }
        LutQuantSpec.Formulation formulation = LutQuantSpec.Formulation.ZP;
        if (node.has("qformulation")) {
            String f = doc.text(node.get("qformulation"), at.resolve("qformulation"));
            formulation = switch (f.toLowerCase(Locale.ROOT)) {
                case "zp" -> LutQuantSpec.Formulation.ZP;
                case "minval" -> LutQuantSpec.Formulation.MINVAL;
                default -> throw doc.fail(at.resolve("qformulation"), "'" + f + "' is not one of {zp, minval}");
            };
        }
        LutQuantSpec.Formulation chosenFormulation = formulation;
        QScheme chosenScheme = scheme;
        return doc.leaf(at, () -> new LutQuantSpec(dtype, chosenScheme, chosenFormulation));
    }

    /** Our names ({@code int8}, {@code fp8_e4m3}, ...) or the seed's torch names ({@code torch.float8_e4m3fn}). */
    private LutDType lutDType(JsonNode node, ConfigPath at) {
        String name = doc.text(node, at);
        String bare = name.toLowerCase(Locale.ROOT).replaceFirst("^torch\\.", "");
        if (TORCH_LUT_DTYPES.containsKey(bare)) {
            return TORCH_LUT_DTYPES.get(bare);
        }
        return doc.oneOf(at, name, LutDType.allowed(), () -> LutDType.parse(bare));
    }
}
