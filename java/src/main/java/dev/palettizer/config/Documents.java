package dev.palettizer.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.palettizer.config.ConfigFiles.Format;
import dev.palettizer.spec.SpecException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Config documents as text, for every config kind: strict parsing (duplicate keys fail; syntax errors
 * become one line with the source and the place) and deterministic writing, in YAML or JSON.
 */
public final class Documents {
    private static final ObjectMapper JSON_MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .build();
    private static final ObjectMapper YAML_MAPPER = YAMLMapper.builder(YAMLFactory.builder()
                    .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                    .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    private static final Pattern YAML_MARK = Pattern.compile("line (\\d+), column (\\d+)");

    private Documents() {}

    /** The document's tree; {@code source} names it in the syntax error, if any. */
    public static JsonNode parse(String text, Format format, String source) {
        try {
            return mapper(format).readTree(text);
        } catch (JsonProcessingException e) {
            throw new SpecException(source + ": " + syntaxError(e));
        }
    }

    public static String format(JsonNode document, Format format) {
        try {
            return mapper(format).writeValueAsString(document);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot write the config as " + format, e);
        }
    }

    /** Writes {@code text} to a temporary file next to {@code file}, then renames it into place. */
    public static void save(String text, Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, text);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * One line from a parser's message. SnakeYAML's spans several lines (context, marks, a snippet);
     * its last mark is where the problem is, more precisely than Jackson's location.
     */
    private static String syntaxError(JsonProcessingException e) {
        String message = e.getOriginalMessage();
        String where = "";
        Matcher mark = YAML_MARK.matcher(message);
        while (mark.find()) {
            where = mark.group() + ": ";
        }
        JsonLocation location = e.getLocation();
        if (where.isEmpty() && location != null) {
            where = "line " + location.getLineNr() + ", column " + location.getColumnNr() + ": ";
        }
        String problem = message.lines().filter(l -> !l.isBlank() && !Character.isWhitespace(l.charAt(0)))
                .collect(Collectors.joining("; "));
        String hint = problem.contains("alias") ? " (quote keys that start with *, such as \"*\")" : "";
        return where + problem + hint;
    }

    private static ObjectMapper mapper(Format format) {
        return format == Format.JSON ? JSON_MAPPER : YAML_MAPPER;
    }
}
