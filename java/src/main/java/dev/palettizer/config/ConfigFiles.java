package dev.palettizer.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.palettizer.spec.SpecException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Loads and saves {@link KMeansPalettizerConfig}s as YAML or JSON documents with the seed's keys:
 *
 * <pre>{@code
 * kmeans_palettization_config:
 *   global_config:
 *     op_state_spec:
 *       weight:
 *         palettization_spec: {n_bits: 4, granularity: {type: per_tensor}}
 *   module_name_configs:
 *     "lm_head": null
 * }</pre>
 *
 * Loading is strict (unknown keys, duplicate keys and bad values fail with the file and the path in
 * the document); saving writes a document that loads back to an equal config.
 */
public final class ConfigFiles {
    /** The two document formats; a file's name decides which. */
    public enum Format {
        YAML, JSON;

        /** JSON for {@code .json}, YAML for {@code .yaml} and {@code .yml}. */
        public static Format of(Path file) {
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            if (name.endsWith(".json")) {
                return JSON;
            }
            if (name.endsWith(".yaml") || name.endsWith(".yml")) {
                return YAML;
            }
            throw new SpecException(file + ": a config file name must end in .yaml, .yml or .json");
        }
    }

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

    private ConfigFiles() {}

    public static KMeansPalettizerConfig load(Path file) throws IOException {
        return parse(Files.readString(file), Format.of(file), file.toString());
    }

    /** Parses a document; {@code source} names it in error messages. */
    public static KMeansPalettizerConfig parse(String text, Format format, String source) {
        try {
            return new ConfigReader(source).document(mapper(format).readTree(text));
        } catch (JsonProcessingException e) {
            throw new SpecException(source + ": " + syntaxError(e));
        }
    }

    private static final Pattern YAML_MARK = Pattern.compile("line (\\d+), column (\\d+)");

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

    /** Writes the config to a temporary file next to {@code file}, then renames it into place. */
    public static void save(KMeansPalettizerConfig config, Path file) throws IOException {
        String text = format(config, Format.of(file));
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, text);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static String format(KMeansPalettizerConfig config, Format format) {
        try {
            return mapper(format).writeValueAsString(ConfigWriter.document(config));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("cannot write the config as " + format, e);
        }
    }

    public static String toYaml(KMeansPalettizerConfig config) {
        return format(config, Format.YAML);
    }

    public static String toJson(KMeansPalettizerConfig config) {
        return format(config, Format.JSON);
    }

    private static ObjectMapper mapper(Format format) {
        return format == Format.JSON ? JSON_MAPPER : YAML_MAPPER;
    }
}
