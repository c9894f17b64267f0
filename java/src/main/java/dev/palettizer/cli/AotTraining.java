package dev.palettizer.cli;

import dev.palettizer.engine.SyntheticModel;
import dev.palettizer.model.DType;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The training run behind the launcher's ahead-of-time cache (JDK 25, JEP 483/514/515): the commands users
 * start most, in one JVM, so that the cache holds their classes already loaded and linked and their hot methods'
 * profiles. The launcher runs it as
 * {@code java <its JVM options> -XX:AOTCacheOutput=FILE -cp palettizer-cli-aot.jar dev.palettizer.cli.AotTraining DIR}
 * ({@link AotJar}'s copy of the jar, which later runs use with the cache); the JVM writes the cache when this
 * exits. The commands' output is discarded; a command that fails fails the training (exit 1, naming it), and the
 * launcher then runs without a cache.
 *
 * <p>What is trained decides what the JIT of a later run expects, because a method's profile is shared by every
 * command that runs it. The palettization a user starts most, one F32 matrix at 4 bits per tensor with the
 * default backend, comes first and alone does real work: a 2048x4096 matrix, large enough for the dense
 * histogram, the nearest-entry table and 8 slices per pass, as a model's layers have. The other commands are
 * trained for their classes only (their {@code --help}): running {@code decompress} or {@code inspect} also trains
 * the JDK's memory-access methods on the byte indices and LUTs they read, and a {@code palettize} run then compiles
 * its float reads around those types too (6-15 % more CPU per {@code palettize} run in interleaved runs on a
 * shared 2-core machine). Those commands load what the cache lacks from the jar: slower, still correct.
 */
public final class AotTraining {
    /** The trained matrix: rows by columns of Laplace(0, 0.02) F32 values (32 MiB). */
    static final int ROWS = 2048;
    static final int COLUMNS = 4096;

    private AotTraining() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: AotTraining WORK_DIR (a scratch directory for the training's model files)");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        Path model = dir.resolve("matrix.safetensors");
        // No layers: the embedding alone (vocab x hidden) and the final norm.
        SyntheticModel.write(model, new SyntheticModel.Shape(0, COLUMNS, COLUMNS, ROWS, DType.F32), 1);
        List<List<String>> commands = List.of(
                List.of("palettize", model.toString(), dir.resolve("matrix-4bit.safetensors").toString(), "--bits", "4"),
                List.of("--help"),
                List.of("palettize", "--help"),
                List.of("presets"),
                List.of("backends"),
                List.of("inspect", "--help"),
                List.of("decompress", "--help"),
                List.of("demo", "--help"));
        PrintStream out = System.out;
        PrintStream err = System.err;
        List<String> failed = new ArrayList<>();
        try (PrintStream discard = new PrintStream(OutputStream.nullOutputStream())) {
            System.setOut(discard);
            System.setErr(discard);
            for (List<String> command : commands) {
                if (Main.run(command.toArray(String[]::new)) != 0) {
                    failed.add(String.join(" ", command));
                }
            }
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        if (!failed.isEmpty()) {
            System.err.println("AotTraining: these commands failed: " + String.join("; ", failed));
            System.exit(1);
        }
    }
}
