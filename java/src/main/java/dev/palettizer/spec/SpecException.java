package dev.palettizer.spec;

/** A palettization spec or option that cannot be honoured; the message names the field, the value and the fix. */
public final class SpecException extends IllegalArgumentException {
    public SpecException(String message) {
        super(message);
    }
}
