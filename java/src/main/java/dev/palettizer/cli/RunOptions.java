package dev.palettizer.cli;

import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.EngineOptions;
import picocli.CommandLine.Option;

/** Where and how wide the work runs. */
final class RunOptions {
    @Option(names = "--workers", description = "Worker threads (default: all cores).")
    Integer workers;

    @Option(names = "--backend", description = "auto, java, opencl or cuda (default: ${DEFAULT-VALUE}).", defaultValue = "auto")
    String backend;

    Palettizer palettizer(EngineOptions options) {
        Palettizer.Builder b = Palettizer.builder().backend(backend).options(options);
        if (workers != null) {
            b.workers(workers);
        }
        return b.build();
    }
}
