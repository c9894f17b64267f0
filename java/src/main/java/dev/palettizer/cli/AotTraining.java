package dev.palettizer.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The training run behind the launcher's ahead-of-time cache (JDK 25, JEP 483/514/515): the commands
 * users start most, in one JVM, on the built-in synthetic model, so that the cache holds their classes
 * already loaded and linked and their hot methods' profiles. The launcher runs it as
 * {@code java <its JVM options> -XX:AOTCacheOutput=FILE -cp palettizer-cli-aot.jar dev.palettizer.cli.AotTraining DIR}
 * ({@link AotJar}'s copy of the jar, which later runs use with the cache); the JVM writes the cache when this exits. The commands' output is discarded; a command that fails
 * fails the training (exit 1, naming it), and the launcher then runs without a cache.
 */
public final class AotTraining {
    private AotTraining() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: AotTraining WORK_DIR (a scratch directory for the synthetic model)");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        String model = dir.resolve("synthetic.safetensors").toString();
        String compressed = dir.resolve("synthetic.palettized.safetensors").toString();
        List<List<String>> commands = List.of(
                List.of("--help"),
                List.of("palettize", "--help"),
                List.of("presets"),
                List.of("backends"),
                // demo writes the synthetic model, palettizes it (auto backend) and decompresses it.
                List.of("demo", "--dir", dir.toString()),
                List.of("palettize", model, dir.resolve("java-4bit.safetensors").toString(), "--bits", "4",
                        "--backend", "java"),
                List.of("inspect", compressed),
                List.of("decompress", compressed, dir.resolve("dense.safetensors").toString()));
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
