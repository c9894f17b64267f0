package dev.palettizer.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.palettizer.spec.SpecException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Supplier;

/**
 * The strict parts every config document reader shares: a document with one root key, mappings with
 * known keys only, typed scalars, and failures that name the source, the path in the document and
 * what is allowed ({@code "cfg.yaml: module_name_configs.\"lm_head\".n_bits: 'four' is not an integer"}).
 */
public final class DocumentReader {
    /** Reads the value at a place of the document. */
    @FunctionalInterface
    public interface Reader<T> {
        T read(JsonNode node, ConfigPath at);
    }

    private final String source;
    private final String rootKey;

    /**
     * @param source names the document in messages (a file name)
     * @param rootKey the single key of the document's root mapping, e.g. {@code kmeans_palettization_config}
     */
    public DocumentReader(String source, String rootKey) {
        this.source = source;
        this.rootKey = rootKey;
    }

    /** The value under the root key, which must be the document's only key. */
    public JsonNode root(JsonNode document) {
        return root(document, List.of());
    }

    /** The value under the root key, which must be there, next to none but the {@code optional} top-level keys. */
    public JsonNode root(JsonNode document, List<String> optional) {
        if (document == null || document.isMissingNode() || document.isNull()) {
            throw new SpecException(source + ": the document is empty; expected the key " + rootKey);
        }
        List<String> keys = document.isObject() ? names(document) : List.of();
        if (!keys.contains(rootKey) || !optional.containsAll(keys.stream().filter(k -> !k.equals(rootKey)).toList())) {
            throw new SpecException(source + ": expected a mapping with the "
                    + (optional.isEmpty() ? "single key " + rootKey : "key " + rootKey + " and optionally " + optional)
                    + ", got "
                    + (document.isObject() ? "the keys " + keys : describe(document)));
        }
        return document.get(rootKey);
    }

    /** The mapping under {@code key} of {@code owner} (at {@code ownerAt}), in document order; absent or null is empty. */
    public <V> LinkedHashMap<String, V> entriesIn(JsonNode owner, ConfigPath ownerAt, String key, Reader<V> value) {
        JsonNode node = owner.get(key);
        return node == null || node.isNull() ? new LinkedHashMap<>() : entries(node, ownerAt.resolve(key), value);
    }

    /** A mapping of names to values, in document order; null values stay null. */
    public <V> LinkedHashMap<String, V> entries(JsonNode node, ConfigPath at, Reader<V> value) {
        if (!node.isObject()) {
            throw fail(at, "expected a mapping of names to entries, got " + describe(node));
        }
        LinkedHashMap<String, V> out = new LinkedHashMap<>();
        for (var field : node.properties()) {
            JsonNode v = field.getValue();
            out.put(field.getKey(), v.isNull() ? null : value.read(v, at.resolve(field.getKey())));
        }
        return out;
    }

    public static <T> T nullable(JsonNode node, ConfigPath at, Reader<T> reader) {
        return node.isNull() ? null : reader.read(node, at);
    }

    /** Checks that {@code node} is a mapping whose keys are all in {@code allowed}. */
    public void object(JsonNode node, ConfigPath at, List<String> allowed) {
        if (!node.isObject()) {
            throw fail(at, "expected a mapping, got " + describe(node));
        }
        for (String key : names(node)) {
            if (!allowed.contains(key)) {
                throw fail(at.resolve(key), "unknown key; expected one of " + allowed);
            }
        }
    }

    public int positiveInt(JsonNode node, ConfigPath at) {
        if (node.isIntegralNumber() && node.canConvertToInt() && node.intValue() >= 1) {
            return node.intValue();
        }
        throw fail(at, describe(node) + " is not an integer >= 1");
    }

    /** Any integer that fits an int; ranges are the config records' to check. */
    public int integer(JsonNode node, ConfigPath at) {
        if (node.isIntegralNumber() && node.canConvertToInt()) {
            return node.intValue();
        }
        throw fail(at, describe(node) + " is not an integer" + (node.isIntegralNumber() ? " that fits 32 bits" : ""));
    }

    /** Any integer that fits a long; ranges are the config records' to check. */
    public long longInteger(JsonNode node, ConfigPath at) {
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return node.longValue();
        }
        throw fail(at, describe(node) + " is not an integer" + (node.isIntegralNumber() ? " that fits 64 bits" : ""));
    }

    /** A number, integral or not; ranges are the config records' to check. */
    public double number(JsonNode node, ConfigPath at) {
        if (node.isNumber()) {
            return node.doubleValue();
        }
        throw fail(at, describe(node) + " is not a number");
    }

    public boolean bool(JsonNode node, ConfigPath at) {
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        throw fail(at, describe(node) + " is not true or false");
    }

    public String text(JsonNode node, ConfigPath at) {
        if (node.isTextual()) {
            return node.textValue();
        }
        throw fail(at, describe(node) + " is not a string");
    }

    /** A list of integers that fit an int. */
    public List<Integer> integers(JsonNode node, ConfigPath at) {
        if (!node.isArray()) {
            throw fail(at, "expected a list of integers, got " + describe(node));
        }
        List<Integer> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            out.add(integer(node.get(i), at.index(i)));
        }
        return out;
    }

    /** The value {@code parse} makes of a name, or a failure quoting the {@code allowed} names. */
    public <T> T oneOf(ConfigPath at, String value, String allowed, Supplier<T> parse) {
        try {
            return parse.get();
        } catch (SpecException e) {
            throw fail(at, "'" + value + "' is not one of " + allowed);
        }
    }

    /** Builds a config record, whose own messages start with a path relative to it. */
    public <T> T build(ConfigPath at, Supplier<T> constructor) {
        try {
            return constructor.get();
        } catch (SpecException e) {
            throw new SpecException(source + ": " + at.prefix(e.getMessage()));
        }
    }

    /** Builds a spec value, whose messages describe the value at {@code at}. */
    public <T> T leaf(ConfigPath at, Supplier<T> constructor) {
        try {
            return constructor.get();
        } catch (SpecException e) {
            throw fail(at, e.getMessage());
        }
    }

    public SpecException fail(ConfigPath at, String detail) {
        return new SpecException(source + ": " + (at.isRoot() ? rootKey : at.toString()) + ": " + detail);
    }

    private static List<String> names(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** A value as messages quote it: strings in quotes, containers by kind, numbers and booleans as written. */
    public static String describe(JsonNode node) {
        if (node.isNull()) {
            return "null";
        }
        if (node.isTextual()) {
            return "'" + node.textValue() + "'";
        }
        if (node.isContainerNode()) {
            return node.isArray() ? "a list" : "a mapping";
        }
        return node.asText();
    }
}
