package dev.palettizer.nativeloader;

import java.util.Arrays;
import java.util.Locale;

/**
 * Reads the {@value #PROPERTY} system property, a comma-separated list of probe names that must
 * report unavailable without touching native code: {@code cuda} (the driver, and with it JCuda and
 * JCublas), {@code jcuda}, {@code jcublas}, {@code opencl} (the ICD loader, and with it LWJGL) and
 * {@code lwjgl}. Tests and users use it to force the pure-Java path on a machine that has a GPU.
 */
final class DisabledProbes {

    static final String PROPERTY = "palettizer.probe.disable";
    static final String REASON = "disabled by " + PROPERTY;

    private DisabledProbes() {
    }

    /**
     * Whether any of {@code probeNames} is listed. Read on every call so that a probe run after the
     * property changes sees the new value.
     */
    static boolean anyOf(String... probeNames) {
        String value = System.getProperty(PROPERTY, "");
        return Arrays.stream(value.split(","))
                .map(name -> name.strip().toLowerCase(Locale.ROOT))
                .anyMatch(listed -> Arrays.asList(probeNames).contains(listed));
    }
}
