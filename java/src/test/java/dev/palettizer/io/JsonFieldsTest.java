package dev.palettizer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * JsonFields reads and writes JSON with jackson-core alone (an ObjectMapper costs a cold start about 70 ms of
 * CPU): the trees it reads and the bytes it writes must be exactly what the ObjectMapper it replaced gave.
 */
class JsonFieldsTest {
    /** The mapper JsonFields used before: strict duplicates, no trailing tokens. */
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static ModelFormatException fail(String detail) {
        return new ModelFormatException(java.nio.file.Path.of("t.json"), detail);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{}",
        "{\"a\":1,\"b\":-2147483649,\"c\":9223372036854775808,\"d\":-0.0,\"e\":1e-300,\"f\":1e999,\"g\":0.1}",
        "{\"s\":\"\\u00fc\\n\\t\\\"\\\\ \\ud83d\\ude00 \\u0001\",\"t\":true,\"f\":false,\"n\":null}",
        "{\"x\":[[],[1,[2,{\"y\":[3.5,\"z\"]}]],{}],"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[4096,4096],\"data_offsets\":[0,67108864]}}",
        "  {\"spaces\" : [ 1 , 2 ] }  ",
    })
    void readsTheTreeAMapperReads(String json) throws Exception {
        JsonNode expected = MAPPER.readTree(json);
        JsonFields fields = JsonFields.parseObject(json, "value", JsonFieldsTest::fail);
        ObjectNode actual = JsonFields.objectNode();
        for (Iterator<String> it = fields.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            actual.set(name, fields.get(name));
        }
        // JsonNode equality compares node types too (an IntNode is not a LongNode of the same value).
        assertEquals(expected, actual);
        assertEquals(MAPPER.writeValueAsString(expected), JsonFields.string(actual));
        assertArrayEquals(MAPPER.writeValueAsBytes(expected), JsonFields.bytes(actual));
        assertArrayEquals(MAPPER.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(expected),
                JsonFields.prettyBytes(actual));
    }

    @Test
    void writesTheBytesAMapperWrites() throws Exception {
        ObjectNode root = JsonFields.objectNode();
        root.putObject("__metadata__").put("note", "ü ünïcödé \u2028").put("empty", "");
        root.putObject("w").put("dtype", "F32").put("nan", Double.NaN).put("inf", Float.NEGATIVE_INFINITY)
                .put("small", 1.0e-45f).put("d", 0.30000000000000004)
                .put("big", new BigInteger("123456789012345678901"))
                .putNull("none");
        root.putArray("shape").add(0).add(Long.MAX_VALUE).add(-1);
        root.putArray("empty");
        String text = JsonFields.string(root);
        assertEquals(MAPPER.writeValueAsString(root), text);
        assertArrayEquals(MAPPER.writeValueAsBytes(root), JsonFields.bytes(root));
        assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), JsonFields.bytes(root));
        assertArrayEquals(MAPPER.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(root),
                JsonFields.prettyBytes(root));
    }

    @Test
    void refusesWhatTheMapperRefused() {
        for (String bad : List.of("{} {}", "{}]", "{\"a\":1,\"a\":2}", "{\"a\":", "{\"a\" 1}", "{'a':1}", "{\"a\":NaN}",
                "[1,2", "{\"a\":01}")) {
            assertThrows(Exception.class, () -> MAPPER.readTree(bad), bad);
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> JsonFields.parseObject(bad, "header", JsonFieldsTest::fail), bad);
            assertTrue(e.getMessage().startsWith("t.json: header is not valid JSON at line 1, column "),
                    e.getMessage());
        }
        assertTrue(assertThrows(ModelFormatException.class, () -> JsonFields.parseObject("{} {}", "header",
                JsonFieldsTest::fail)).getMessage().contains("trailing content ({) after the value"));
        assertTrue(assertThrows(ModelFormatException.class, () -> JsonFields.parseObject("{\"a\":1,\"a\":2}", "header",
                JsonFieldsTest::fail)).getMessage().contains("Duplicate field 'a'"));
    }

    @Test
    void nothingNullOrANonObjectIsNamed() {
        for (String[] c : new String[][] {{"", "nothing"}, {"  ", "nothing"}, {"null", "null"}, {"[1]", "array"},
                {"7", "number"}, {"\"x\"", "string"}, {"true", "boolean"}}) {
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> JsonFields.parseObject(c[0], "header", JsonFieldsTest::fail));
            assertEquals("t.json: header must be a JSON object, got " + c[1], e.getMessage());
        }
    }
}
