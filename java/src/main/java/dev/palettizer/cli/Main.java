package dev.palettizer.cli;

import dev.palettizer.backend.BackendException;
import dev.palettizer.engine.TensorDataException;
import dev.palettizer.io.ModelFormatException;
import dev.palettizer.spec.SpecException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code palettizer}: palettize, decompress and inspect safetensors models. */
@Command(name = "palettizer", mixinStandardHelpOptions = true, version = "palettizer 0.1.0",
        description = "Compresses neural-network weights by palettization (k-means LUT + n-bit indices).",
        footer = {"", "From a source checkout, the ./palettizer launcher also runs: test (the test suite),"
                + " bench (the JMH benchmarks), quality (the MiniLM quality grid), calibrate (activation-aware"
                + " sensitivities from ONNX Runtime).",
                "Exit codes: 0 done (warnings on stderr say where a run did less than asked), 1 bad input, a path"
                        + " that cannot be read or written, or a failed job, 2 usage error (unknown flag, bad value,"
                        + " flag that does not apply)."})
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
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            // Errors pass through picocli; the heap has room again once the failed allocation is gone.
            cli.getErr().println("palettizer: error: out of memory: " + OutOfMemory.describe(e));
            return FAILED;
        }
    }

    /** One line naming the problem; stack traces only for bugs. */
    private static String message(Exception e) {
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (t instanceof NoSuchFileException n) {
            return "no such file: " + n.getFile();
        }
        if (t instanceof FileSystemException f && f.getFile() != null) {
            // The JDK's message is the bare path; say what failed and why.
            return "cannot access " + f.getFile() + (f.getOtherFile() != null ? " or " + f.getOtherFile() : "") + ": "
                    + Preflight.reason(f);
        }
        if (t instanceof SpecException || t instanceof ModelFormatException || t instanceof TensorDataException
                || t instanceof BackendException || t instanceof CommandException || t instanceof IOException) {
            return t.getMessage();
        }
        t.printStackTrace();
        return t.toString();
    }
}
