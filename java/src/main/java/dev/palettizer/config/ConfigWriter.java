package dev.palettizer.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import java.util.Map;

/**
 * The document {@link ConfigReader} reads back to an equal config. Every spec field is written out and
 * {@code global_config} always appears (its absence means something else); empty op and module maps,
 * which are the defaults, are left out.
 */
final class ConfigWriter {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ConfigWriter() {}

    static ObjectNode document(KMeansPalettizerConfig config) {
        ObjectNode root = NODES.objectNode();
        ObjectNode c = root.putObject(ConfigReader.CONFIG_KEY);
        c.set("global_config", config.globalConfig() == null ? NODES.nullNode() : module(config.globalConfig()));
        putEntries(c, "module_type_configs", config.moduleTypeConfigs(), ConfigWriter::module);
        putEntries(c, "module_name_configs", config.moduleNameConfigs(), ConfigWriter::module);
        return root;
    }

    private static ObjectNode module(ModuleKMeansPalettizerConfig m) {
        ObjectNode node = NODES.objectNode();
        node.set("op_state_spec", stateSpecs(m.opStateSpec()));
        putEntries(node, "op_type_config", m.opTypeConfig(), ConfigWriter::op);
        putEntries(node, "op_name_config", m.opNameConfig(), ConfigWriter::op);
        putEntries(node, "module_state_spec", m.moduleStateSpec(), ConfigWriter::wrappedSpec);
        node.put("enable_fast_kmeans_mode", m.enableFastKMeansMode());
        node.put("rounding_precision", m.roundingPrecision());
        return node;
    }

    private static ObjectNode op(OpKMeansPalettizerConfig op) {
        ObjectNode node = NODES.objectNode();
        node.set("op_state_spec", stateSpecs(op.opStateSpec()));
        return node;
    }

    private static JsonNode stateSpecs(Map<String, PalettizationSpec> specs) {
        return specs == null ? NODES.nullNode() : entries(specs, ConfigWriter::wrappedSpec);
    }

    /** The seed's form: each spec under the {@code palettization_spec} key. */
    private static ObjectNode wrappedSpec(PalettizationSpec spec) {
        ObjectNode node = NODES.objectNode();
        node.set(ConfigReader.SPEC_KEY, spec(spec));
        return node;
    }

    static ObjectNode spec(PalettizationSpec spec) {
        ObjectNode node = NODES.objectNode();
        node.put("n_bits", spec.nBits());
        LutQuantSpec q = spec.lutQuant();
        if (q == null) {
            node.putNull("lut_qspec");
        } else {
            node.putObject("lut_qspec").put("dtype", q.dtype().cliName()).put("qscheme", q.scheme().cliName());
        }
        ObjectNode g = node.putObject("granularity");
        switch (spec.granularity()) {
            case Granularity.PerTensor _ -> g.put("type", ConfigReader.PER_TENSOR);
            case Granularity.PerGroupedChannel pg -> {
                g.put("type", ConfigReader.PER_GROUPED_CHANNEL).put("axis", pg.axis()).put("group_size", pg.groupSize());
                if (pg.raggedLast()) {
                    g.put(ConfigReader.RAGGED_LAST_GROUP, true);
                }
            }
        }
        node.put("cluster_dim", spec.clusterDim());
        node.put("enable_per_channel_scale", spec.perChannelScale());
        return node;
    }

    private interface Writer<V> {
        JsonNode write(V value);
    }

    private static <V> void putEntries(ObjectNode owner, String key, Map<String, V> map, Writer<V> value) {
        if (!map.isEmpty()) {
            owner.set(key, entries(map, value));
        }
    }

    private static <V> ObjectNode entries(Map<String, V> map, Writer<V> value) {
        ObjectNode node = NODES.objectNode();
        map.forEach((k, v) -> node.set(k, v == null ? NODES.nullNode() : value.write(v)));
        return node;
    }
}
