package dev.palettizer.cli;

import static dev.palettizer.cli.CliSpecs.option;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.BackendChoice;
import dev.palettizer.backend.BackendRegistry;
import dev.palettizer.engine.Equivalence;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ForkJoinPool;
import picocli.CommandLine.Model.CommandSpec;

final class SelftestCommand implements Callable<Integer> {
    String backend;
    String device;

    Integer workers;

    /** The command line of selftest, bound to this object's fields. */
    CommandSpec spec() {
        CommandSpec command = CliSpecs.command(this, "selftest",
                "Check a backend against the pure-Java reference on every spec family (generated tensors)"
                + " and print a pass/fail table; exit 1 on any failure.");
        command.addOption(option(String.class, v -> backend = v, "--backend").paramLabel("<backend>")
                .defaultValue("auto")
                .description("Backend to check: auto (what --backend auto picks), java, opencl or cuda"
                + " (default: ${DEFAULT-VALUE}).").build());
        command.addOption(option(String.class, v -> device = v, "--device").paramLabel("<device>")
                .description("Device index or name substring (default: the provider's choice).").build());
        command.addOption(option(Integer.class, v -> workers = v, "--workers").paramLabel("<workers>")
                .description("Worker threads (default: all cores).").build());
        return command;
    }

    @Override
    public Integer call() {
        try (ForkJoinPool pool = new ForkJoinPool(workers == null ? Runtime.getRuntime().availableProcessors() : workers);
             Backend candidate = create(pool)) {
            System.out.println("selftest: " + candidate.name() + " against the java reference, "
                    + Equivalence.families().size() + " families");
            List<Equivalence.Row> rows = Equivalence.run(candidate, pool);
            System.out.print(Equivalence.table(rows));
            return rows.stream().allMatch(Equivalence.Row::pass) ? 0 : Main.FAILED;
        }
    }

    private Backend create(ForkJoinPool pool) {
        BackendRegistry registry = BackendRegistry.discover();
        BackendChoice choice = registry.choose(backend, device);
        System.out.println("selftest: " + choice.summary());
        return registry.create(choice, pool);
    }
}
