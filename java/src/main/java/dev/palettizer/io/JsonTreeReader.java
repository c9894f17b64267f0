package dev.palettizer.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;

/**
 * Strict JSON (RFC 8259) text to the tree jackson-core's parser would build: an {@code IntNode}, {@code LongNode} or
 * {@code BigIntegerNode} for each integer by its range, a {@code DoubleNode} for every other number, object fields in
 * order, duplicate names refused, and jackson's default limits (nesting depth 1,000, numbers of 1,000 characters,
 * names of 50,000 and strings of 20,000,000).
 *
 * <p>Why not jackson's parser: every jackson parser initialises {@code java.math.BigDecimal}, whose static tables
 * (powers of five up to 5^2^16, squared in the interpreter) cost each command-line run 15-30 ms before the first
 * tensor is read, and queue C2 compilations of {@code BigInteger} methods ahead of the work's loops. Errors come back
 * as {@link Malformed}, with the 1-based line and column where the text stops making sense.
 */
final class JsonTreeReader {
    static final int MAX_DEPTH = 1000;
    static final int MAX_NUMBER_LENGTH = 1000;
    static final int MAX_NAME_LENGTH = 50_000;
    static final int MAX_STRING_LENGTH = 20_000_000;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** A syntax error at {@code line} and {@code column} (both from 1). */
    static final class Malformed extends Exception {
        final int line;
        final int column;

        Malformed(String message, int line, int column) {
            super(message, null, false, false);
            this.line = line;
            this.column = column;
        }
    }

    private final String text;
    private int pos;

    private JsonTreeReader(String text) {
        this.text = text;
    }

    /** The one value {@code text} holds, or null when it holds only whitespace. */
    static JsonNode read(String text) throws Malformed {
        JsonTreeReader r = new JsonTreeReader(text);
        r.skipWhitespace();
        if (r.pos == text.length()) {
            return null;
        }
        JsonNode value = r.value(0);
        r.skipWhitespace();
        if (r.pos < text.length()) {
            throw r.error("trailing content (" + r.describeHere() + ") after the value: one JSON value only");
        }
        return value;
    }

    private JsonNode value(int depth) throws Malformed {
        if (pos == text.length()) {
            throw error("unexpected end of input: expected a value");
        }
        char c = text.charAt(pos);
        return switch (c) {
            case '{' -> object(depth + 1);
            case '[' -> array(depth + 1);
            case '"' -> NODES.textNode(string(MAX_STRING_LENGTH, "string"));
            case 't' -> literal("true", NODES.booleanNode(true));
            case 'f' -> literal("false", NODES.booleanNode(false));
            case 'n' -> literal("null", NODES.nullNode());
            default -> {
                if (c == '-' || (c >= '0' && c <= '9')) {
                    yield number();
                }
                throw error("unexpected character (" + describeHere() + "): expected a value");
            }
        };
    }

    private ObjectNode object(int depth) throws Malformed {
        checkDepth(depth);
        pos++;
        ObjectNode object = NODES.objectNode();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return object;
        }
        while (true) {
            if (peek() != '"') {
                throw error(pos == text.length() ? "unexpected end of input: expected a field name"
                        : "unexpected character (" + describeHere() + "): expected a field name in double quotes");
            }
            int nameAt = pos;
            String name = string(MAX_NAME_LENGTH, "field name");
            if (object.has(name)) {
                throw errorAt(nameAt, "Duplicate field '" + name + "'");
            }
            skipWhitespace();
            expect(':', "a colon after the field name");
            skipWhitespace();
            object.set(name, value(depth));
            skipWhitespace();
            if (peek() == ',') {
                pos++;
                skipWhitespace();
            } else {
                expect('}', "',' or '}' after a field");
                return object;
            }
        }
    }

    private ArrayNode array(int depth) throws Malformed {
        checkDepth(depth);
        pos++;
        ArrayNode array = NODES.arrayNode();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return array;
        }
        while (true) {
            array.add(value(depth));
            skipWhitespace();
            if (peek() == ',') {
                pos++;
                skipWhitespace();
            } else {
                expect(']', "',' or ']' after an array element");
                return array;
            }
        }
    }

    private void checkDepth(int depth) throws Malformed {
        if (depth > MAX_DEPTH) {
            throw error("nesting depth " + depth + " exceeds the maximum of " + MAX_DEPTH);
        }
    }

    /** The string starting at the opening quote under {@code pos}, unescaped. */
    private String string(int maxLength, String what) throws Malformed {
        int start = ++pos;
        // The common case, no escapes: one substring.
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c == '"') {
                checkLength(pos - start, maxLength, what, start);
                return text.substring(start, pos++);
            }
            if (c == '\\' || c < 0x20) {
                break;
            }
            pos++;
        }
        StringBuilder out = new StringBuilder(text.length() - start < 64 ? 16 : 64).append(text, start, pos);
        while (true) {
            if (pos == text.length()) {
                throw error("unexpected end of input in a " + what);
            }
            char c = text.charAt(pos);
            if (c == '"') {
                pos++;
                checkLength(out.length(), maxLength, what, start);
                return out.toString();
            }
            if (c < 0x20) {
                throw error("unescaped control character (code " + (int) c + ") in a " + what
                        + ": write it as \\u" + String.format("%04x", (int) c));
            }
            if (c != '\\') {
                out.append(c);
                pos++;
                continue;
            }
            if (pos + 1 == text.length()) {
                pos++;
                throw error("unexpected end of input in an escape");
            }
            char e = text.charAt(pos + 1);
            switch (e) {
                case '"', '\\', '/' -> out.append(e);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    int code = 0;
                    for (int i = 0; i < 4; i++) {
                        int at = pos + 2 + i;
                        int digit = at < text.length() ? Character.digit(text.charAt(at), 16) : -1;
                        if (digit < 0) {
                            pos = Math.min(at, text.length());
                            throw error("\\u must be followed by four hex digits");
                        }
                        code = code << 4 | digit;
                    }
                    out.append((char) code);
                    pos += 4;
                }
                default -> {
                    pos++;
                    throw error("unknown escape \\" + e + " (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
                }
            }
            pos += 2;
        }
    }

    private void checkLength(int length, int maxLength, String what, int start) throws Malformed {
        if (length > maxLength) {
            throw errorAt(start, what + " of " + length + " characters exceeds the maximum of " + maxLength);
        }
    }

    /** An integer (int, long or BigInteger node by its range) or a double, in JSON's number grammar. */
    private JsonNode number() throws Malformed {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        int intStart = pos;
        if (peek() == '0') {
            pos++;
            if (isDigit(peek())) {
                throw error("leading zeros are not allowed in a number");
            }
        } else if (!skipDigits()) {
            throw error("expected a digit after '-'");
        }
        int intEnd = pos;
        boolean integral = true;
        if (peek() == '.') {
            pos++;
            integral = false;
            if (!skipDigits()) {
                throw error("expected a digit after the decimal point");
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            integral = false;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!skipDigits()) {
                throw error("expected a digit in the exponent");
            }
        }
        if (pos < text.length() && isNumberTail(text.charAt(pos))) {
            throw error("unexpected character (" + describeHere() + ") in a number");
        }
        if (pos - start > MAX_NUMBER_LENGTH) {
            throw errorAt(start, "number of " + (pos - start) + " characters exceeds the maximum of "
                    + MAX_NUMBER_LENGTH);
        }
        String literal = text.substring(start, pos);
        if (!integral) {
            return NODES.numberNode(Double.parseDouble(literal));
        }
        // Up to 18 digits always fit a long; more may not.
        if (intEnd - intStart <= 18) {
            long value = Long.parseLong(literal);
            return value == (int) value ? NODES.numberNode((int) value) : NODES.numberNode(value);
        }
        BigInteger value = new BigInteger(literal);
        return value.bitLength() < 64 ? NODES.numberNode(value.longValue()) : NODES.numberNode(value);
    }

    /** Characters that may not follow a number directly (a separator or whitespace must). */
    private static boolean isNumberTail(char c) {
        return Character.isLetterOrDigit(c) || c == '.' || c == '-' || c == '+' || c == '_';
    }

    private boolean skipDigits() {
        int from = pos;
        while (isDigit(peek())) {
            pos++;
        }
        return pos > from;
    }

    private static boolean isDigit(int c) {
        return c >= '0' && c <= '9';
    }

    private JsonNode literal(String word, JsonNode node) throws Malformed {
        if (!text.startsWith(word, pos)) {
            throw error("unrecognized token: expected a value (true, false, null, a number, a string, [ or {)");
        }
        pos += word.length();
        if (pos < text.length() && Character.isLetterOrDigit(text.charAt(pos))) {
            throw error("unrecognized token: expected a value (true, false, null, a number, a string, [ or {)");
        }
        return node;
    }

    private void expect(char c, String what) throws Malformed {
        if (peek() != c) {
            throw error(pos == text.length() ? "unexpected end of input: expected " + what
                    : "unexpected character (" + describeHere() + "): expected " + what);
        }
        pos++;
    }

    /** The character under {@code pos}, or -1 at the end. */
    private int peek() {
        return pos < text.length() ? text.charAt(pos) : -1;
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                return;
            }
            pos++;
        }
    }

    private String describeHere() {
        char c = text.charAt(pos);
        return c >= 0x20 && c < 0x7f ? String.valueOf(c) : "code " + (int) c;
    }

    private Malformed error(String message) {
        return errorAt(pos, message);
    }

    private Malformed errorAt(int at, String message) {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < at; i++) {
            if (text.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        return new Malformed(message, line, at - lineStart + 1);
    }
}
