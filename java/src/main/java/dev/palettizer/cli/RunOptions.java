package dev.palettizer.cli;

import static dev.palettizer.cli.CliSpecs.option;

import dev.palettizer.api.Palettizer;
import dev.palettizer.backend.BackendRegistry;
import dev.palettizer.backend.BackendStatus;
import dev.palettizer.engine.EngineOptions;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;

/** Where and how wide the work runs. */
final class RunOptions {
    Integer workers;
    String backend;

    String device;
    boolean quiet;

    /** Adds these flags to {@code command}, bound to this object's fields. */
    void addTo(CommandSpec command) {
        command.addOption(option(Integer.class, v -> workers = v, "--workers").paramLabel("<workers>")
                .description("Worker threads (default: all cores).").build());
        command.addOption(option(String.class, v -> backend = v, "--backend").paramLabel("<backend>")
                .defaultValue("auto")
                .description("auto (CUDA, then an OpenCL GPU, then Java), java, opencl or cuda (default:"
                + " ${DEFAULT-VALUE}); `palettizer backends` shows what this machine offers.").build());
        command.addOption(option(String.class, v -> device = v, "--device").paramLabel("<device>")
                .description("The backend's device: an index or part of its name, as `palettizer backends`"
                + " lists them (default: auto's pick, or the backend's first usable device).").build());
        command.addOption(option(boolean.class, v -> quiet = v, "-q", "--quiet")
                .description("No progress on stderr (warnings and errors still print).").build());
    }

    /** A bar when stderr is a terminal, one line per tensor when it is not, nothing with --quiet. */
    ConsoleProgress progress() {
        return ConsoleProgress.forStderr(quiet);
    }

    Palettizer palettizer(EngineOptions options) {
        Palettizer.Builder b = Palettizer.builder().backend(backendOfDevice()).device(device).options(options);
        if (workers != null) {
            b.workers(workers);
        }
        return b.build();
    }

    /** Says on stderr, in one line, which backend runs and why (what auto weighed). */
    static void announce(Palettizer palettizer) {
        System.err.println("palettizer: backend " + palettizer.backendChoice().summary());
    }

    /**
     * A device name that `palettizer backends` lists picks its backend under auto: auto alone would
     * look for the name among its own choice's devices only. Indexes stay with auto's choice.
     */
    private String backendOfDevice() {
        if (!BackendRegistry.AUTO.equals(backend) || device == null || device.strip().matches("\\d*")) {
            return backend;
        }
        String wanted = device.strip().toLowerCase(Locale.ROOT);
        List<String> owners = BackendRegistry.discover().statuses().stream()
                .filter(s -> s instanceof BackendStatus.Built b && b.devices().stream()
                        .anyMatch(d -> d.name().toLowerCase(Locale.ROOT).contains(wanted)))
                .map(BackendStatus::name).toList();
        return owners.size() == 1 ? owners.getFirst() : backend;
    }
}
