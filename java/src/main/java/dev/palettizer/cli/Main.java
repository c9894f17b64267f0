package dev.palettizer.cli;

import dev.palettizer.backend.BackendException;
import dev.palettizer.engine.TensorDataException;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.spec.SpecException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code palettizer}: palettize, decompress and inspect safetensors models. */
@Command(name = "palettizer", mixinStandardHelpOptions = true, version = "palettizer 0.1.0",
        description = "Compresses neural-network weights by palettization (k-means LUT + n-bit indices).")
public final class Main {
    /** Exit code for bad input or a failed job (usage errors get picocli's 2). */
    static final int FAILED = 1;

    /**
     * The subcommands in help order. picocli reflects over every option of a command it is given (a third of
     * a cold start's time before any work), so a run that names its command gets that one alone.
     */
    private static final List<Map.Entry<String, Supplier<Object>>> SUBCOMMANDS = List.of(
            Map.entry("palettize", PalettizeCommand::new), Map.entry("decompress", DecompressCommand::new),
            Map.entry("inspect", InspectCommand::new), Map.entry("backends", BackendsCommand::new),
            Map.entry("demo", DemoCommand::new), Map.entry("presets", PresetsCommand::new),
            Map.entry("selftest", SelftestCommand::new));

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        String named = args.length > 0 ? args[0] : "";
        boolean one = SUBCOMMANDS.stream().anyMatch(c -> c.getKey().equals(named));
        SUBCOMMANDS.stream().filter(c -> !one || c.getKey().equals(named))
                .forEach(c -> cli.addSubcommand(c.getKey(), c.getValue().get()));
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("palettizer: error: " + message(e));
            return FAILED;
        });
        return cli.execute(args);
    }

    /** One line naming the problem; stack traces only for bugs. */
    private static String message(Exception e) {
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (t instanceof NoSuchFileException n) {
            return "no such file: " + n.getFile();
        }
        if (t instanceof SpecException || t instanceof ModelFormatException || t instanceof TensorDataException
                || t instanceof BackendException || t instanceof IOException) {
            return t.getMessage();
        }
        t.printStackTrace();
        return t.toString();
    }
}
