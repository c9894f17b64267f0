package dev.palettizer.nativeloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Runs {@link ProbeMain} in a fresh JVM with part of the test class path left out, so that a
 * binding whose jar is missing fails for real without poisoning classes in the test JVM.
 */
final class ForkedJvm {

    private ForkedJvm() {
    }

    /** Standard output of {@code ProbeMain probeName} run without the class path entries {@code dropped} matches. */
    static String probe(String probeName, Predicate<String> dropped) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-cp", classPath(dropped), ProbeMain.class.getName(), probeName));
        Process java = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(java.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        // The output is complete once the JVM closed it, so it has exited or is about to.
        assertTrue(java.waitFor(60, TimeUnit.SECONDS), "forked " + command + " did not exit");
        assertEquals(0, java.exitValue(), "forked " + command + " printed: " + out);
        return out.strip();
    }

    /** Surefire runs tests from a manifest-only jar and names the real class path in this property. */
    private static String classPath(Predicate<String> dropped) {
        String full = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return Arrays.stream(full.split(File.pathSeparator))
                .filter(dropped.negate())
                .collect(Collectors.joining(File.pathSeparator));
    }
}
