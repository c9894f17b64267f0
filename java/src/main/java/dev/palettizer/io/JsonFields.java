package dev.palettizer.io;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Strict reading of one JSON object from a model file: every problem becomes a
 * {@link ModelFormatException} built by {@code error}, which adds the file (and tensor) to the
 * field-level detail given here. Also the writers' JSON: {@link #objectNode()} and {@link #bytes}.
 *
 * <p>Trees are read by {@link JsonTreeReader} (jackson's parsers initialise {@code BigDecimal}, a cold start's
 * 15-30 ms) and written with jackson-core's streaming generator, never an {@code ObjectMapper}: the first mapper of
 * a process costs a cold start about 70 ms of CPU (its default date format initialises {@code Calendar} and the
 * locale data), and JSON trees need none of it. The trees and bytes are those an {@code ObjectMapper} reads and
 * writes for the same text and tree ({@code JsonFieldsTest}).
 */
final class JsonFields {
    /** For the generators only: reading is {@link JsonTreeReader}'s. */
    private static final JsonFactory FACTORY = JsonFactory.builder().build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

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
            root = JsonTreeReader.read(text);
        } catch (JsonTreeReader.Malformed e) {
            throw error.apply(what + " is not valid JSON at line " + e.line + ", column " + e.column + ": "
                    + e.getMessage());
        }
        return of(root, what, error);
    }

    /** A new empty object, for the writers to fill and pass to {@link #bytes} or {@link #string}. */
    static ObjectNode objectNode() {
        return NODES.objectNode();
    }

    /** {@code node} as compact UTF-8 JSON. */
    static byte[] bytes(JsonNode node) throws JsonProcessingException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        write(node, () -> FACTORY.createGenerator(out, JsonEncoding.UTF8));
        return out.toByteArray();
    }

    /** {@code node} as indented UTF-8 JSON (Jackson's default pretty printer). */
    static byte[] prettyBytes(JsonNode node) throws JsonProcessingException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        write(node, () -> FACTORY.createGenerator(out, JsonEncoding.UTF8).useDefaultPrettyPrinter());
        return out.toByteArray();
    }

    /** {@code node} as compact JSON text. */
    static String string(JsonNode node) throws JsonProcessingException {
        StringWriter out = new StringWriter();
        write(node, () -> FACTORY.createGenerator(out));
        return out.toString();
    }

    /** A generator over memory. */
    private interface Target {
        JsonGenerator open() throws IOException;
    }

    private static void write(JsonNode node, Target target) throws JsonProcessingException {
        try (JsonGenerator g = target.open()) {
            write(g, node);
        } catch (JsonProcessingException e) {
            throw e;
        } catch (IOException e) {
            // Memory does not fail; only the generator's own complaints (JsonProcessingException) can.
            throw new UncheckedIOException("cannot write JSON to memory", e);
        }
    }

    /** Walks the tree itself: a node's own serialize needs a mapper's serializer provider. */
    private static void write(JsonGenerator g, JsonNode node) throws IOException {
        switch (node.getNodeType()) {
            case OBJECT -> {
                g.writeStartObject();
                for (Map.Entry<String, JsonNode> field : node.properties()) {
                    g.writeFieldName(field.getKey());
                    write(g, field.getValue());
                }
                g.writeEndObject();
            }
            case ARRAY -> {
                g.writeStartArray();
                for (JsonNode item : node) {
                    write(g, item);
                }
                g.writeEndArray();
            }
            case STRING -> g.writeString(node.textValue());
            // Numbers write themselves through the generator alone, with the formatting a mapper uses.
            case NUMBER -> node.serialize(g, null);
            case BOOLEAN -> g.writeBoolean(node.booleanValue());
            case NULL -> g.writeNull();
            default -> throw new IllegalArgumentException("a " + node.getNodeType() + " node has no JSON text");
        }
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
