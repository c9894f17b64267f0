package dev.palettizer.api;

import dev.palettizer.spec.SpecException;
import java.util.Objects;

/**
 * Settings of a {@link DKMPalettizer}.
 *
 * @param workers threads of the per-element passes and of finalize (>= 1)
 * @param backend where the DKM passes run: {@code auto} or {@code java} (the OpenCL and CUDA DKM kernels
 *     are not built yet, so naming them fails with a clear message rather than falling back silently)
 * @param seed seeds k-means++ initialisation and gsm's Gumbel noise; same inputs and seed, same bits
 */
public record DkmOptions(int workers, String backend, long seed) {
    public DkmOptions {
        if (workers < 1) {
            throw new SpecException("workers must be >= 1, got " + workers);
        }
        Objects.requireNonNull(backend, "backend");
        if (!backend.equals("auto") && !backend.equals("java")) {
            throw new SpecException("DKM backend '" + backend + "' is not supported: the DKM passes run on the Java"
                    + " backend only (OpenCL and CUDA kernels for DKM are not built yet); use 'java' or 'auto'");
        }
    }

    /** All cores, the automatic backend (Java), seed 0. */
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
