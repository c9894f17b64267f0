package dev.palettizer.backend;

/** A backend that cannot run here, or a device call that failed; the status says which kind. */
public final class BackendException extends RuntimeException {
    /** Failure kinds; UNKNOWN for device codes we do not map. */
    public enum Status { NOT_AVAILABLE, NOT_SUPPORTED, DEVICE_ERROR, OUT_OF_MEMORY, UNKNOWN }

    private final Status status;

    public BackendException(Status status, String message) {
        super(message);
        this.status = status;
    }

    public Status status() {
        return status;
    }
}
