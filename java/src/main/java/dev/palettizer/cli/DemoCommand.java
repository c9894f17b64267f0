package dev.palettizer.cli;

import static dev.palettizer.cli.CliSpecs.option;

import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.SyntheticModel;
import dev.palettizer.engine.TensorReport;
import dev.palettizer.spec.SpecResolver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;

final class DemoCommand implements Callable<Integer> {
    Path dir;

    final SpecOptions spec = new SpecOptions();
    final ConfigOptions config = new ConfigOptions();
    final RunOptions run = new RunOptions();

    /** The command line of demo: its flags and those of its option groups, bound to this object's fields. */
    CommandSpec spec() {
        CommandSpec command = CliSpecs.command(this, "demo",
                "Offline end-to-end run on a built-in synthetic transformer: generate, palettize, decompress, report.");
        command.addOption(option(Path.class, v -> dir = v, "--dir").paramLabel("<dir>").defaultValue("out/demo")
                .description("Working directory (default: ${DEFAULT-VALUE}).").build());
        spec.addTo(command);
        config.addTo(command);
        run.addTo(command);
        return command;
    }

    @Override
    public Integer call() throws Exception {
        SpecResolver resolver = config.resolver(spec);
        Files.createDirectories(dir);
        Path model = dir.resolve("synthetic.safetensors");
        Path compressed = dir.resolve("synthetic.palettized.safetensors");
        Path dense = dir.resolve("synthetic.decompressed.safetensors");
        if (!Files.exists(model)) {
            System.out.println("generating " + model + " (synthetic transformer, seed 0)");
            SyntheticModel.write(model, SyntheticModel.Shape.small(), 0);
        }
        long started = System.nanoTime();
        List<TensorReport> reports;
        try (Palettizer p = run.palettizer(spec.engineOptions())) {
            RunOptions.announce(p);
            try (ConsoleProgress progress = run.progress()) {
                reports = p.palettizeFile(model, compressed, spec.job(resolver, null), progress);
            }
            ReportTable.print(reports, (System.nanoTime() - started) / 1e9, System.out);
            p.decompressFile(compressed, dense);
        }
        System.out.printf("%s: %d bytes -> %s: %d bytes -> %s%n", model, Files.size(model), compressed,
                Files.size(compressed), dense);
        return 0;
    }
}
