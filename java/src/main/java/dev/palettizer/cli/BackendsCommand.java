package dev.palettizer.cli;

import dev.palettizer.nativeloader.NativeEnvironment;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "backends", mixinStandardHelpOptions = true,
        description = "List the backends and native devices of this machine, and which one --backend auto picks.")
final class BackendsCommand implements Callable<Integer> {
    @Option(names = "--diagnose", description = "Print every native probe in full.")
    boolean diagnose;

    @Override
    public Integer call() {
        NativeEnvironment env = NativeEnvironment.get();
        System.out.println("java    available: pure Java reference, " + Runtime.getRuntime().availableProcessors() + " cores");
        System.out.println("opencl  not supported in this build (the OpenCL backend is not built yet); driver: "
                + env.openCl().availability().detail());
        System.out.println("cuda    not supported in this build (the CUDA backend is not built yet); driver: "
                + env.cuda().availability().detail());
        System.out.println("auto -> java");
        if (diagnose) {
            System.out.println();
            System.out.println(env.describe());
        }
        return 0;
    }
}
