package dev.palettizer.config.dkm;

import dev.palettizer.config.ConfigFiles.Format;
import dev.palettizer.config.Documents;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads and saves {@link DKMPalettizerConfig}s as YAML or JSON documents whose keys are seed 004's
 * parameter names, below the root key {@code dkm_palettization_config}:
 *
 * <pre>{@code
 * dkm_palettization_config:
 *   global_config: {n_bits: 4, milestone: 100}
 *   module_type_configs:
 *     Conv2d:
 *       - {n_bits: 4, cluster_dim: 4, weight_threshold: 1000}
 *       - {n_bits: 2, cluster_dim: 2, weight_threshold: 300}
 *   module_name_configs:
 *     lm_head: null
 * }</pre>
 *
 * Loading is strict, as for the k-means config (unknown keys, duplicate keys, wrong types and bad
 * values fail with the file and the path in the document, e.g. {@code cfg.yaml:
 * module_name_configs."layers\.0\..*".palett_tau: must be a finite number > 0, got 0.0}); saving writes
 * a document that loads back to an equal config. The file name decides the format ({@link Format#of}).
 */
public final class DkmConfigFiles {
    private DkmConfigFiles() {}

    public static DKMPalettizerConfig load(Path file) throws IOException {
        return parse(Files.readString(file), Format.of(file), file.toString());
    }

    /** Parses a document; {@code source} names it in error messages. */
    public static DKMPalettizerConfig parse(String text, Format format, String source) {
        return DkmDocuments.read(Documents.parse(text, format, source), source);
    }

    /** Writes the config to a temporary file next to {@code file}, then renames it into place. */
    public static void save(DKMPalettizerConfig config, Path file) throws IOException {
        Documents.save(format(config, Format.of(file)), file);
    }

    public static String format(DKMPalettizerConfig config, Format format) {
        return Documents.format(DkmDocuments.write(config), format);
    }

    public static String toYaml(DKMPalettizerConfig config) {
        return format(config, Format.YAML);
    }

    public static String toJson(DKMPalettizerConfig config) {
        return format(config, Format.JSON);
    }
}
