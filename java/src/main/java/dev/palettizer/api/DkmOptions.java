package dev.palettizer.api;

import dev.palettizer.spec.SpecException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Settings of a {@link DKMPalettizer}.
 *
 * @param workers threads of the per-element passes and of finalize (>= 1)
 * @param backend where the DKM passes run: {@code auto} (the backend the k-means engine's auto picks),
 *     {@code java}, {@code opencl} or {@code cuda}; one that cannot run here fails at prepare with its probe's reason
 * @param seed seeds k-means++ initialisation and gsm's Gumbel noise; same inputs and seed, same bits
 */
public record DkmOptions(int workers, String backend, long seed) {
    public DkmOptions {
        if (workers < 1) {
            throw new SpecException("workers must be >= 1, got " + workers);
        }
        Objects.requireNonNull(backend, "backend");
        backend = backend.toLowerCase(Locale.ROOT);
        if (!BACKENDS.contains(backend)) {
            throw new SpecException("DKM backend '" + backend + "' is not supported: use one of " + BACKENDS);
        }
    }

    /** The backends the DKM passes can run on. */
    public static final List<String> BACKENDS = List.of("auto", "java", "opencl", "cuda");

    /** All cores, the automatic backend, seed 0. */
    public static DkmOptions defaults() {
        return new DkmOptions(Runtime.getRuntime().availableProcessors(), "auto", 0);
    }

    public DkmOptions withWorkers(int n) {
        return new DkmOptions(n, backend, seed);
    }

    public DkmOptions withBackend(String name) {
        return new DkmOptions(workers, name, seed);
    }

    public DkmOptions withSeed(long s) {
        return new DkmOptions(workers, backend, s);
    }
}
