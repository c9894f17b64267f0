package dev.palettizer.nativeloader;

import java.util.Objects;

/**
 * Whether a native capability can be used, with a one-line explanation.
 *
 * <p>When {@code available} is true, {@code detail} says what was found (for example the driver
 * version); when false, it is a reason a user can act on, such as
 * "libcuda.so.1 not found (no NVIDIA driver on this machine)".
 *
 * @param available whether the capability can be used
 * @param detail what was found, or why it cannot be used; never null
 */
public record Availability(boolean available, String detail) {

    public Availability {
        Objects.requireNonNull(detail, "detail");
    }

    /** A usable capability; {@code detail} describes what was found. */
    public static Availability available(String detail) {
        return new Availability(true, detail);
    }

    /** An unusable capability; {@code reason} tells the user what to do about it. */
    public static Availability unavailable(String reason) {
        return new Availability(false, reason);
    }
}
