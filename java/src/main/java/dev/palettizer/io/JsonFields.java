package dev.palettizer.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.Iterator;
import java.util.List;
import java.util.function.Function;

/**
 * Strict reading of one JSON object from a model file: every problem becomes a
 * {@link ModelFormatException} built by {@code error}, which adds the file (and tensor) to the
 * field-level detail given here.
 */
final class JsonFields {
    /** Duplicate keys and trailing content are errors: a header must say one thing per tensor. */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final JsonNode node;
    private final Function<String, ModelFormatException> error;

    private JsonFields(JsonNode node, Function<String, ModelFormatException> error) {
        this.node = node;
        this.error = error;
    }

    /** Parses {@code text} as JSON, which must be an object; {@code what} names it in messages. */
    static JsonFields parseObject(String text, String what, Function<String, ModelFormatException> error) {
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw error.apply(what + " is not valid JSON" + where + ": " + e.getOriginalMessage());
        }
        return of(root, what, error);
    }

    /** Wraps {@code node}, which must be an object; {@code what} names it in messages. */
    static JsonFields of(JsonNode node, String what, Function<String, ModelFormatException> error) {
        if (node == null || !node.isObject()) {
            throw error.apply(what + " must be a JSON object, got " + describe(node));
        }
        return new JsonFields(node, error);
    }

    Iterator<String> fieldNames() {
        return node.fieldNames();
    }

    JsonNode get(String field) {
        return node.get(field);
    }

    /** Rejects fields outside {@code allowed}, so typos and unsupported extensions are not silently ignored. */
    void allowOnly(List<String> allowed) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!allowed.contains(field)) {
                throw error.apply("unknown field '" + field + "' (allowed: " + String.join(", ", allowed) + ")");
            }
        }
    }

    JsonNode require(String field) {
        JsonNode value = node.get(field);
        if (value == null) {
            throw error.apply("missing field '" + field + "'");
        }
        return value;
    }

    String text(String field) {
        JsonNode value = require(field);
        if (!value.isTextual()) {
            throw error.apply(field + " must be a string, got " + value);
        }
        return value.textValue();
    }

    boolean bool(String field) {
        JsonNode value = require(field);
        if (!value.isBoolean()) {
            throw error.apply(field + " must be true or false, got " + value);
        }
        return value.booleanValue();
    }

    double number(String field) {
        JsonNode value = require(field);
        if (!value.isNumber()) {
            throw error.apply(field + " must be a number, got " + value);
        }
        return value.doubleValue();
    }

    long nonNegativeLong(String field) {
        JsonNode value = require(field);
        if (!isLong(value) || value.longValue() < 0) {
            throw error.apply(field + " must be a non-negative integer, got " + value);
        }
        return value.longValue();
    }

    int nonNegativeInt(String field) {
        long value = nonNegativeLong(field);
        if (value > Integer.MAX_VALUE) {
            throw error.apply(field + " must be at most " + Integer.MAX_VALUE + ", got " + value);
        }
        return (int) value;
    }

    long[] nonNegativeLongs(String field) {
        JsonNode value = require(field);
        if (!value.isArray()) {
            throw error.apply(field + " must be an array of integers, got " + value);
        }
        long[] out = new long[value.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode item = value.get(i);
            if (!isLong(item)) {
                throw error.apply(field + " must be an array of integers, got " + value);
            }
            if (item.longValue() < 0) {
                throw error.apply(field + " " + value + " holds a negative value " + item.longValue());
            }
            out[i] = item.longValue();
        }
        return out;
    }

    JsonFields object(String field) {
        return of(require(field), field, error);
    }

    private static boolean isLong(JsonNode value) {
        return value.isIntegralNumber() && value.canConvertToLong();
    }

    private static String describe(JsonNode node) {
        return node == null || node.isMissingNode() ? "nothing" : node.getNodeType().name().toLowerCase();
    }
}
