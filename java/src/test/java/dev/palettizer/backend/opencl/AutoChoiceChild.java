package dev.palettizer.backend.opencl;

import dev.palettizer.backend.BackendChoice;
import dev.palettizer.backend.BackendRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** Run by {@link ChildDeviceListingTest} in its own JVM: chooses as auto and lists the OpenCL libraries then mapped. */
public final class AutoChoiceChild {
    private AutoChoiceChild() {}

    public static void main(String[] args) throws IOException {
        BackendChoice choice = BackendRegistry.discover().choose(BackendRegistry.AUTO, null);
        System.out.println("chose " + choice.backend() + ": " + choice.reason());
        List<String> mapped = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.toLowerCase(Locale.ROOT).contains("libopencl") || l.toLowerCase(Locale.ROOT).contains("pocl"))
                .map(l -> l.substring(l.lastIndexOf(' ') + 1)).distinct().toList();
        System.out.println("opencl libraries mapped: " + mapped);
    }
}
