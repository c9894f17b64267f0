package dev.palettizer.calibrate;

import java.nio.file.Path;

/**
 * Calibration cannot proceed: data that does not fit the model, or a model it cannot run. The message is
 * one line naming the file, then the tensor or input and the field where there is one, and what would fix it.
 */
public final class CalibrationException extends RuntimeException {

    CalibrationException(String message) {
        super(oneLine(message));
    }

    CalibrationException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** A problem with one tensor or input of {@code file}. */
    static CalibrationException of(Path file, String tensor, String detail) {
        return new CalibrationException(file + ": tensor '" + tensor + "': " + detail);
    }

    // Names come from the files and may hold line breaks.
    private static String oneLine(String message) {
        return message.replace("\r", "\\r").replace("\n", "\\n");
    }
}
