package dev.palettizer.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * JsonTreeReader against the jackson mapper it stands in for: the same tree (node types included) for every text
 * the mapper reads, and a refusal for every text the mapper refuses.
 */
class JsonTreeReaderTest {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    @ParameterizedTest
    @ValueSource(strings = {
        "[0,-0,1,-1,2147483647,2147483648,-2147483648,-2147483649,999999999,1000000000,9999999999]",
        "[9223372036854775807,9223372036854775808,-9223372036854775808,-9223372036854775809,123456789012345678]",
        "[1234567890123456789,12345678901234567890,-12345678901234567890123456789012345678901234567890]",
        "[0.0,-0.0,1.5,1e2,1E+2,1e-2,-0.0e0,4.9e-324,1e-400,1.7976931348623157e308,1e309,0.30000000000000004]",
        "{\"\":1,\" \":{\"\":[]},\"a\\u0000b\":\"\\ud800\",\"\\/\":\"\\b\\f\\n\\r\\t\\\"\\\\\\/\"}",
        "{\"ü\":\"ünïcödé \u2028 😀\",\"k\":\"\\uD83D\\uDE00\\uFFFF\"}",
        "\t\r\n {\"a\" :\n[ true ,false,null ] } \n",
        "\"top\"", "12", "-3.25", "true", "null", "[]", "{}",
    })
    void readsWhatTheMapperReads(String json) throws Exception {
        assertEquals(MAPPER.readTree(json), JsonTreeReader.read(json), json);
    }

    @Test
    void nestingUpToJacksonsLimit() throws Exception {
        String deepest = "[".repeat(JsonTreeReader.MAX_DEPTH) + "]".repeat(JsonTreeReader.MAX_DEPTH);
        assertEquals(MAPPER.readTree(deepest), JsonTreeReader.read(deepest));
        String tooDeep = "{\"a\":" + deepest + "}";
        assertThrows(Exception.class, () -> MAPPER.readTree(tooDeep));
        JsonTreeReader.Malformed e = assertThrows(JsonTreeReader.Malformed.class, () -> JsonTreeReader.read(tooDeep));
        assertTrue(e.getMessage().contains("nesting depth 1001 exceeds the maximum of 1000"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{} {}", "{}]", "{\"a\":1,\"a\":2}", "{\"a\":", "{\"a\" 1}", "{'a':1}", "{\"a\":NaN}", "[1,2", "{\"a\":01}",
        "[1,]", "[,1]", "{,}", "{\"a\":1,}", "{\"a\"}", "{a:1}", "[-]", "[1.]", "[.5]", "[+1]", "[1e]", "[1e+]",
        "[1x]", "[1.5.2]", "[--1]", "[tru]", "[truex]", "[nul]", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"",
        "\"a\u0001b\"", "\"\t\"", "[", "]", "}", ":", "\ufeff{}", "[Infinity]", "[1 2]", "{\"a\":1 \"b\":2}",
        "[0x10]", "[1_000]", "/* c */ {}", "{} // c",
    })
    void refusesWhatTheMapperRefuses(String json) {
        assertThrows(Exception.class, () -> MAPPER.readTree(json), json);
        assertThrows(JsonTreeReader.Malformed.class, () -> JsonTreeReader.read(json), json);
    }

    @Test
    void whereItStops() {
        JsonTreeReader.Malformed eof = assertThrows(JsonTreeReader.Malformed.class, () -> JsonTreeReader.read("{\"a\":"));
        assertEquals(1, eof.line);
        assertEquals(6, eof.column);
        JsonTreeReader.Malformed dup = assertThrows(JsonTreeReader.Malformed.class,
                () -> JsonTreeReader.read("{\"a\":1,\n  \"a\":2}"));
        assertEquals("Duplicate field 'a'", dup.getMessage());
        assertEquals(2, dup.line);
        assertEquals(3, dup.column);
        JsonTreeReader.Malformed trailing = assertThrows(JsonTreeReader.Malformed.class,
                () -> JsonTreeReader.read("{} x"));
        assertEquals("trailing content (x) after the value: one JSON value only", trailing.getMessage());
    }

    /**
     * Differential check on mutations of real headers: any one-character edit (insert, delete or replace with a
     * character JSON cares about) either parses to the mapper's tree or is refused by both.
     */
    @Test
    void agreesWithTheMapperOnMutatedHeaders() throws Exception {
        List<String> seeds = List.of(
                "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[4096,4096],"
                        + "\"data_offsets\":[0,67108864]},\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[67108864,67108868]}}",
                "{\"x\":[-1.5e-3,2E10,true,false,null,\"s\\\"\\u00e9\"],\"y\":{\"z\":[[],{}]}}");
        String alphabet = "{}[]:,\"\\ -+.0123456789eEtrufalsn\tu\u00e9x";
        SplittableRandom random = new SplittableRandom(14);
        int accepted = 0;
        for (int i = 0; i < 20_000; i++) {
            StringBuilder b = new StringBuilder(seeds.get(i % seeds.size()));
            for (int edits = 1 + random.nextInt(3); edits > 0; edits--) {
                int at = random.nextInt(b.length() + 1);
                char c = alphabet.charAt(random.nextInt(alphabet.length()));
                switch (random.nextInt(3)) {
                    case 0 -> b.insert(at, c);
                    case 1 -> {
                        if (at < b.length()) {
                            b.deleteCharAt(at);
                        }
                    }
                    default -> {
                        if (at < b.length()) {
                            b.setCharAt(at, c);
                        }
                    }
                }
            }
            String json = b.toString();
            JsonNode expected;
            try {
                expected = MAPPER.readTree(json);
            } catch (Exception refused) {
                expected = null;
            }
            JsonNode actual;
            try {
                actual = JsonTreeReader.read(json);
            } catch (JsonTreeReader.Malformed refused) {
                actual = null;
            }
            if (expected == null && json.isBlank()) {
                continue;
            }
            if (expected == null ? actual != null : !expected.equals(actual)) {
                fail("mapper " + (expected == null ? "refused" : "read " + expected) + " but JsonTreeReader "
                        + (actual == null ? "refused" : "read " + actual) + ": " + json);
            }
            accepted += actual == null ? 0 : 1;
        }
        // Both outcomes must be exercised, or the check proves nothing.
        assertTrue(accepted > 1000 && accepted < 19_000, "accepted " + accepted);
    }
}
