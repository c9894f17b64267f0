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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine;

/** {@code palettizer}: palettize, decompress and inspect safetensors models. */
public final class Main {
    /** Exit code for bad input or a failed job (usage errors get picocli's 2). */
    static final int FAILED = 1;

    /**
     * The subcommands in help order, each built when asked: a run that names its command builds that one alone.
     * Their specs are built in code ({@link CliSpecs}), not read from annotations.
     */
    private static final List<Map.Entry<String, Supplier<CommandSpec>>> SUBCOMMANDS = List.of(
            Map.entry("palettize", () -> new PalettizeCommand().spec()),
            Map.entry("decompress", () -> new DecompressCommand().spec()),
            Map.entry("inspect", () -> new InspectCommand().spec()),
            Map.entry("backends", () -> new BackendsCommand().spec()),
            Map.entry("demo", () -> new DemoCommand().spec()),
            Map.entry("presets", () -> new PresetsCommand().spec()),
            Map.entry("selftest", () -> new SelftestCommand().spec()));

    /** The top command. */
    private static CommandSpec spec() {
        CommandSpec spec = CliSpecs.command(new Main(), "palettizer",
                "Compresses neural-network weights by palettization (k-means LUT + n-bit indices).");
        spec.version("palettizer 0.1.0");
        spec.usageMessage().footer("",
                "From a source checkout, the ./palettizer launcher also runs: test (the test suite),"
                + " bench (the JMH benchmarks), quality (the MiniLM quality grid), calibrate (activation-aware"
                + " sensitivities from ONNX Runtime).",
                "Exit codes: 0 done (warnings on stderr say where a run did less than asked), 1 bad input, a path"
                        + " that cannot be read or written, or a failed job, 2 usage error (unknown flag, bad value,"
                        + " flag that does not apply).");
        return spec;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String... args) {
        CommandLine cli = new CommandLine(spec());
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
