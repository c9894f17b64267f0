package dev.palettizer.io;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Files written beside their target under a hidden temporary name and renamed into place. */
final class AtomicOutput {
    private AtomicOutput() {}

    /** A fresh hidden name in the target's folder, so the final rename stays on one file system. */
    static Path tempBeside(Path target) {
        return tempBeside(target, ".tmp");
    }

    /** Like {@link #tempBeside(Path)} with another marker, e.g. for a previous output set aside. */
    static Path tempBeside(Path target, String marker) {
        Path absolute = target.toAbsolutePath();
        return absolute.resolveSibling("." + absolute.getFileName() + marker
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36));
    }

    static void moveOnto(Path temp, Path out) throws IOException {
        try {
            Files.move(temp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, out, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** @throws IllegalArgumentException if {@code out} is one of {@code inputs} (payloads may be reading them) */
    static void refuseInputs(Path out, List<Path> inputs) throws IOException {
        for (Path input : inputs) {
            if (sameFile(out, input)) {
                throw new IllegalArgumentException("output path equals input path: " + out);
            }
        }
    }

    private static boolean sameFile(Path out, Path input) throws IOException {
        if (Files.exists(out) && Files.exists(input)) {
            return Files.isSameFile(out, input);
        }
        return out.toAbsolutePath().normalize().equals(input.toAbsolutePath().normalize());
    }

    /** Deletes a temporary file after a failure, keeping the failure as the primary exception. */
    static void discard(Path temp, Throwable failure) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException cleanup) {
            failure.addSuppressed(cleanup);
        }
    }
}
