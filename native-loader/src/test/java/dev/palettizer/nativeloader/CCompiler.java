package dev.palettizer.nativeloader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds stand-in native libraries from C source, so the probes' FFM signatures and error paths
 * run on machines without a GPU. Tests using it are skipped where no C compiler is installed.
 */
final class CCompiler {

    private CCompiler() {
    }

    /** Compiles {@code source} into {@code dir/name}.so with the given -D macros; returns its path. */
    static Path sharedLibrary(Path dir, String name, String source, String... defines)
            throws IOException, InterruptedException {
        assumeTrue(compilerInstalled(), "no C compiler (cc) on PATH to build a stand-in " + name);
        Path sourceFile = Files.writeString(dir.resolve(name + ".c"), source);
        Path library = dir.resolve(name + ".so");
        List<String> command = new ArrayList<>(List.of("cc", "-shared", "-fPIC", "-o", library.toString()));
        for (String define : defines) {
            command.add("-D" + define);
        }
        command.add(sourceFile.toString());
        Process cc = new ProcessBuilder(command).inheritIO().start();
        assertEquals(0, cc.waitFor(), "cc failed: " + command);
        return library;
    }

    private static boolean compilerInstalled() {
        try {
            Process cc = new ProcessBuilder("cc", "--version").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return cc.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
