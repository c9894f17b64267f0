package dev.palettizer.backend;

import java.util.Objects;
import java.util.concurrent.ForkJoinPool;

/**
 * What a backend is built with.
 *
 * @param pool the engine's worker pool (shared, not owned by the backend)
 * @param device a device index or a case-insensitive substring of its name; null for the provider's default
 */
public record BackendRequest(ForkJoinPool pool, String device) {
    public BackendRequest {
        Objects.requireNonNull(pool, "pool");
    }
}
