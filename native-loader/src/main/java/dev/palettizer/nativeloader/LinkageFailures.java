package dev.palettizer.nativeloader;

import java.util.Optional;

/**
 * Turns the error a Java binding throws when its native library will not load (or any other
 * failure of a probe's first call into it) into one line a user can act on.
 *
 * <p>JCuda's loader packs the stack traces of both its attempts (from {@code java.library.path},
 * then from the jar) into one multi-line message, and a second touch of a class whose initialiser
 * failed throws {@code NoClassDefFoundError} with the first error only as its cause. The useful
 * part in both cases is the dynamic linker's line, such as
 * "libcuda.so.1: cannot open shared object file", so that is what is kept. The JVM shortens the
 * message it keeps for later touches, so on those the line may be gone; the first line of each
 * error is given then.
 */
final class LinkageFailures {

    private static final String[] LINKER_COMPLAINTS = {
        "cannot open shared object file", "undefined symbol", "wrong ELF class", "version `",
    };
    private static final String COULD_NOT_INITIALIZE = "Could not initialize class ";

    private LinkageFailures() {
    }

    /** One line naming what failed, without stack traces. */
    static String describe(Throwable error) {
        return linkerLine(error).orElseGet(() -> fallback(error));
    }

    /** The dynamic linker's complaint, wherever in the cause chain and its messages it sits. */
    private static Optional<String> linkerLine(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            String message = t.getMessage();
            if (message == null) {
                continue;
            }
            for (String line : message.lines().toList().reversed()) {
                for (String complaint : LINKER_COMPLAINTS) {
                    if (line.contains(complaint)) {
                        return Optional.of(withoutExceptionName(line.strip()));
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static String fallback(Throwable error) {
        String message = firstLine(error.getMessage());
        if (error instanceof NoClassDefFoundError && !message.startsWith(COULD_NOT_INITIALIZE)
                && (error.getCause() == null || error.getCause() instanceof ClassNotFoundException)) {
            // The class file itself is missing, not its native library.
            return "class " + message.replace('/', '.') + " is not on the class path";
        }
        Throwable root = error;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        String rootMessage = firstLine(root.getMessage());
        return root == error ? error.getClass().getSimpleName() + ": " + message
                : message + " (" + withoutExceptionName(rootMessage) + ")";
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("").strip();
    }

    /** "java.lang.UnsatisfiedLinkError: x" and "Exception java.lang.UnsatisfiedLinkError: x" become "x". */
    private static String withoutExceptionName(String line) {
        return line.replaceFirst("^(Exception )?[\\w.$]+(Error|Exception): ", "");
    }
}
