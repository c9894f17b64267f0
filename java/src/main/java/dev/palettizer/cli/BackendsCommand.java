package dev.palettizer.cli;

import static dev.palettizer.cli.CliSpecs.option;

import dev.palettizer.backend.BackendRegistry;
import dev.palettizer.backend.BackendStatus;
import dev.palettizer.backend.DeviceInfo;
import dev.palettizer.nativeloader.Availability;
import dev.palettizer.nativeloader.NativeEnvironment;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;

final class BackendsCommand implements Callable<Integer> {
    boolean diagnose;

    /** The command line of backends, bound to this object's fields. */
    CommandSpec spec() {
        CommandSpec command = CliSpecs.command(this, "backends",
                "List the backends and their devices, available or why not, and which one --backend auto picks.");
        command.addOption(option(boolean.class, v -> diagnose = v, "--diagnose")
                .description("Also print every native probe (drivers, JCuda, JCublas, LWJGL) in full.").build());
        return command;
    }

    @Override
    public Integer call() {
        PrintStream out = System.out;
        BackendRegistry registry = BackendRegistry.discover();
        for (BackendStatus status : registry.statuses()) {
            switch (status) {
                case BackendStatus.Built built -> {
                    out.println(built.name() + " (rank " + built.rank() + "): " + text(built.availability()));
                    for (DeviceInfo device : built.devices()) {
                        out.println("  device " + device.index() + ": " + device.name()
                                + (device.gpu() ? " [GPU]: " : " [CPU]: ") + text(device.availability()));
                    }
                }
                case BackendStatus.NotBuilt notBuilt -> out.println(notBuilt.name() + ": " + notBuilt.reason());
            }
        }
        registry.loadFailures().forEach(failure -> out.println("failed to load: " + failure));
        out.println(registry.choose(BackendRegistry.AUTO, null).summary());
        if (diagnose) {
            out.println();
            out.print(NativeEnvironment.get().describe());
        }
        return 0;
    }

    private static String text(Availability availability) {
        return availability.available() ? "available (" + availability.detail() + ")"
                : "unavailable: " + availability.detail();
    }
}
