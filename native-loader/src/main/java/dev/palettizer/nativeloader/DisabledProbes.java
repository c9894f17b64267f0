package dev.palettizer.nativeloader;

import java.util.Arrays;
import java.util.Locale;

/**
 * Reads the {@value #PROPERTY} system property, a comma-separated list of probe names
 * ({@code cuda}, {@code opencl}) that must report unavailable without touching native code.
 * Tests and users use it to force the pure-Java path on a machine that has a GPU.
 */
final class DisabledProbes {

    static final String PROPERTY = "palettizer.probe.disable";
    static final String REASON = "disabled by " + PROPERTY;

    private DisabledProbes() {
    }

    /** Read on every call so that a probe run after the property changes sees the new value. */
    static boolean contains(String probeName) {
        String value = System.getProperty(PROPERTY, "");
        return Arrays.stream(value.split(","))
                .map(name -> name.strip().toLowerCase(Locale.ROOT))
                .anyMatch(probeName::equals);
    }
}
