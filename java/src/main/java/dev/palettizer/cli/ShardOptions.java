package dev.palettizer.cli;

import static dev.palettizer.cli.CliSpecs.option;

import dev.palettizer.io.ShardedOutput;
import dev.palettizer.spec.SpecException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.CommandSpec;

/** The shard cap of a checkpoint folder written by palettize or decompress. */
final class ShardOptions {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)?");
    private static final Map<String, Long> UNITS = Map.of("B", 1L, "KB", 1_000L, "MB", 1_000_000L,
            "GB", 1_000_000_000L, "TB", 1_000_000_000_000L, "KIB", 1L << 10, "MIB", 1L << 20, "GIB", 1L << 30,
            "TIB", 1L << 40);

    String maxShardSize;

    /** Adds these flags to {@code command}, bound to this object's fields. */
    void addTo(CommandSpec command) {
        command.addOption(option(String.class, v -> maxShardSize = v, "--max-shard-size").paramLabel("<maxShardSize>")
                .description("Folders only: tensor bytes per output shard at most, e.g. 5GB, 500MB, 2GiB"
                + " or a byte count (default: 5GB, as the Hugging Face Hub); a larger tensor"
                + " gets a shard of its own.").build());
    }

    /** The cap for a folder input; refuses the flag for a single file, where there are no shards. */
    long maxShardBytes(Path in, boolean folder) {
        if (maxShardSize == null) {
            return ShardedOutput.DEFAULT_MAX_SHARD_BYTES;
        }
        if (!folder) {
            throw new SpecException("--max-shard-size applies to checkpoint folders, but " + in
                    + " is a single file (its output is one file)");
        }
        return parse(maxShardSize);
    }

    static long parse(String text) {
        Matcher m = SIZE.matcher(text.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new SpecException("--max-shard-size '" + text + "' is not a size: expected a number with an optional"
                    + " unit B, KB, MB, GB, TB, KiB, MiB, GiB or TiB, e.g. 5GB");
        }
        try {
            long bytes = Math.multiplyExact(Long.parseLong(m.group(1)), UNITS.get(m.group(2) == null ? "B" : m.group(2)));
            if (bytes < 1) {
                throw new SpecException("--max-shard-size must be at least 1 byte, got '" + text + "'");
            }
            return bytes;
        } catch (NumberFormatException | ArithmeticException e) {
            throw new SpecException("--max-shard-size '" + text + "' is too large");
        }
    }
}
