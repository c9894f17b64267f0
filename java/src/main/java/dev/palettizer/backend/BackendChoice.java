package dev.palettizer.backend;

import java.util.Objects;

/**
 * Which backend runs, on which device, and why.
 *
 * @param requested what was asked for: {@value BackendRegistry#AUTO} or a backend name
 * @param backend the name of the backend chosen
 * @param device the device request handed to the backend (see {@link BackendRequest#device()});
 *     null for its first usable device
 * @param reason why this backend, in one line
 */
public record BackendChoice(String requested, String backend, String device, String reason) {
    public BackendChoice {
        Objects.requireNonNull(requested, "requested");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(reason, "reason");
    }

    /** One line, e.g. "auto -> java: no usable GPU (cuda: ...)" or "java: requested by name". */
    public String summary() {
        String chosen = requested.equals(backend) ? backend : requested + " -> " + backend;
        return chosen + (device == null ? "" : " (device " + device + ")") + ": " + reason;
    }
}
