package dev.palettizer.config.dkm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.palettizer.config.ConfigPath;
import dev.palettizer.config.DocumentReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link DKMPalettizerConfig} as a YAML/JSON document tree, both ways. Reading is strict (unknown
 * keys, wrong types and bad values fail with the source and the path in the document); absent keys
 * take the seed's defaults and null values keep their seed meaning. Writing puts out every parameter of
 * every module config and always {@code global_config} (its absence means something else), so the
 * document reads back to an equal config.
 */
final class DkmDocuments {
    static final String CONFIG_KEY = "dkm_palettization_config";
    static final List<String> CONFIG_FIELDS = List.of("global_config", "module_type_configs", "module_name_configs");

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private DkmDocuments() {}

    static DKMPalettizerConfig read(JsonNode document, String source) {
        DocumentReader doc = new DocumentReader(source, CONFIG_KEY);
        JsonNode node = doc.root(document);
        ConfigPath at = ConfigPath.ROOT;
        doc.object(node, at, CONFIG_FIELDS);
        DocumentReader.Reader<ModuleDKMPalettizerConfig> module = (n, p) -> module(doc, n, p);
        LinkedHashMap<String, List<ModuleDKMPalettizerConfig>> types =
                doc.entriesIn(node, at, "module_type_configs", (n, p) -> typeEntry(doc, n, p));
        LinkedHashMap<String, ModuleDKMPalettizerConfig> names = doc.entriesIn(node, at, "module_name_configs", module);
        // As for the k-means config: the default global config exists only when no rule at all is given.
        ModuleDKMPalettizerConfig global = !node.has("global_config")
                ? (types.isEmpty() && names.isEmpty() ? ModuleDKMPalettizerConfig.defaults() : null)
                : DocumentReader.nullable(node.get("global_config"), at.resolve("global_config"), module);
        return doc.build(at, () -> new DKMPalettizerConfig(global, types, names));
    }

    /** One module config, or a list of them told apart by weight_threshold; a null item is the record's to refuse. */
    private static List<ModuleDKMPalettizerConfig> typeEntry(DocumentReader doc, JsonNode node, ConfigPath at) {
        if (node.isObject()) {
            return List.of(module(doc, node, at));
        }
        if (!node.isArray()) {
            throw doc.fail(at, "expected a module config (a mapping), a list of them told apart by weight_threshold,"
                    + " or null, got " + DocumentReader.describe(node));
        }
        List<ModuleDKMPalettizerConfig> list = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            list.add(DocumentReader.nullable(node.get(i), at.index(i), (n, p) -> module(doc, n, p)));
        }
        return list;
    }

    private static ModuleDKMPalettizerConfig module(DocumentReader doc, JsonNode node, ConfigPath at) {
        doc.object(node, at, DkmFields.NAMES);
        ModuleDKMPalettizerConfig.Builder builder = ModuleDKMPalettizerConfig.builder();
        for (DkmFields.Field<?> field : DkmFields.ALL) {
            if (node.has(field.name())) {
                field.read(doc, node.get(field.name()), at.resolve(field.name()), builder);
            }
        }
        return doc.build(at, builder::build);
    }

    static ObjectNode write(DKMPalettizerConfig config) {
        ObjectNode root = NODES.objectNode();
        ObjectNode c = root.putObject(CONFIG_KEY);
        c.set("global_config", config.globalConfig() == null ? NODES.nullNode() : module(config.globalConfig()));
        if (!config.moduleTypeConfigs().isEmpty()) {
            ObjectNode types = c.putObject("module_type_configs");
            config.moduleTypeConfigs().forEach((type, list) -> types.set(type, typeEntry(list)));
        }
        if (!config.moduleNameConfigs().isEmpty()) {
            ObjectNode names = c.putObject("module_name_configs");
            config.moduleNameConfigs().forEach((name, m) -> names.set(name, m == null ? NODES.nullNode() : module(m)));
        }
        return root;
    }

    /** A list of one as the plain module config it is the same as; longer lists as lists. */
    private static JsonNode typeEntry(List<ModuleDKMPalettizerConfig> list) {
        if (list == null) {
            return NODES.nullNode();
        }
        if (list.size() == 1) {
            return module(list.getFirst());
        }
        ArrayNode out = NODES.arrayNode(list.size());
        list.forEach(m -> out.add(module(m)));
        return out;
    }

    private static ObjectNode module(ModuleDKMPalettizerConfig m) {
        ObjectNode node = NODES.objectNode();
        for (DkmFields.Field<?> field : DkmFields.ALL) {
            node.set(field.name(), field.write(m));
        }
        return node;
    }
}
