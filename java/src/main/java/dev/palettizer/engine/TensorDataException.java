package dev.palettizer.engine;

/** A tensor whose values or sensitivities cannot be clustered (NaN, Inf, negative weights...). */
public final class TensorDataException extends RuntimeException {
    public TensorDataException(String message) {
        super(message);
    }
}
