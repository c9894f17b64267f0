package dev.palettizer.cli;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.BackendException;
import dev.palettizer.backend.BackendProvider;
import dev.palettizer.backend.BackendRequest;
import dev.palettizer.backend.DeviceInfo;
import dev.palettizer.backend.JavaBackend;
import dev.palettizer.engine.Equivalence;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import java.util.concurrent.ForkJoinPool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "selftest", mixinStandardHelpOptions = true,
        description = "Check a backend against the pure-Java reference on every spec family (generated tensors)"
                + " and print a pass/fail table; exit 1 on any failure.")
final class SelftestCommand implements Callable<Integer> {
    @Option(names = "--backend", defaultValue = "auto",
            description = "Backend to check: auto (the first provider with a usable GPU, else java), java or a"
                    + " provider's name such as opencl (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--device", description = "Device index or name substring (default: the provider's choice).")
    String device;

    @Option(names = "--workers", description = "Worker threads (default: all cores).")
    Integer workers;

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
        String name = backend.toLowerCase(Locale.ROOT);
        if (name.equals("java")) {
            return new JavaBackend(pool);
        }
        List<BackendProvider> providers = ServiceLoader.load(BackendProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .filter(p -> !p.name().equals("java"))
                .sorted(Comparator.comparingInt(BackendProvider::rank))
                .toList();
        if (name.equals("auto")) {
            return providers.stream()
                    .filter(p -> p.devices().stream().anyMatch(SelftestCommand::usableGpu))
                    .findFirst()
                    .map(p -> p.create(new BackendRequest(pool, device)))
                    .orElseGet(() -> new JavaBackend(pool));
        }
        return providers.stream().filter(p -> p.name().equals(name)).findFirst()
                .orElseThrow(() -> new BackendException(BackendException.Status.NOT_AVAILABLE, "unknown backend '"
                        + backend + "'; choose auto, java or one of " + providers.stream().map(BackendProvider::name).toList()))
                .create(new BackendRequest(pool, device));
    }

    private static boolean usableGpu(DeviceInfo d) {
        return d.gpu() && d.availability().available();
    }
}
