package dev.palettizer.config;

import dev.palettizer.spec.SpecException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalDouble;
import java.util.Locale;

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

    private ConfigFiles() {}

    public static KMeansPalettizerConfig load(Path file) throws IOException {
        return parse(Files.readString(file), Format.of(file), file.toString());
    }

    /** Parses a document; {@code source} names it in error messages. */
    public static KMeansPalettizerConfig parse(String text, Format format, String source) {
        return new ConfigReader(source).document(Documents.parse(text, format, source));
    }

    /**
     * The file's top-level {@code target_bits} (an average bit budget for {@code palettize}, next to the rules
     * {@link #load} reads), or empty; saving a config does not write it.
     */
    public static OptionalDouble targetBits(Path file) throws IOException {
        String source = file.toString();
        return new ConfigReader(source).targetBits(Documents.parse(Files.readString(file), Format.of(file), source));
    }

    /** Writes the config to a temporary file next to {@code file}, then renames it into place. */
    public static void save(KMeansPalettizerConfig config, Path file) throws IOException {
        Documents.save(format(config, Format.of(file)), file);
    }

    public static String format(KMeansPalettizerConfig config, Format format) {
        return Documents.format(ConfigWriter.document(config), format);
    }

    public static String toYaml(KMeansPalettizerConfig config) {
        return format(config, Format.YAML);
    }

    public static String toJson(KMeansPalettizerConfig config) {
        return format(config, Format.JSON);
    }
}
