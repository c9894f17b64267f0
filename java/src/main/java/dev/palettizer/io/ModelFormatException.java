package dev.palettizer.io;

import java.nio.file.Path;

/**
 * A model file whose content breaks the safetensors or compressed-format rules. The message is one
 * line naming the file, then the tensor and header field where there is one, so the command line can
 * print it as it is.
 */
public final class ModelFormatException extends RuntimeException {

    /** A problem with the file as a whole (length, header syntax, metadata). */
    public ModelFormatException(Path file, String detail) {
        super(oneLine(file + ": " + detail));
    }

    public ModelFormatException(Path file, String detail, Throwable cause) {
        super(oneLine(file + ": " + detail), cause);
    }

    /** A problem with one tensor's header entry or data. */
    public ModelFormatException(Path file, String tensor, String detail) {
        super(oneLine(file + ": tensor '" + tensor + "': " + detail));
    }

    public ModelFormatException(Path file, String tensor, String detail, Throwable cause) {
        super(oneLine(file + ": tensor '" + tensor + "': " + detail), cause);
    }

    // Tensor names, header values and parser messages come from the file and may hold line breaks.
    private static String oneLine(String message) {
        return message.replace("\r", "\\r").replace("\n", "\\n");
    }
}
