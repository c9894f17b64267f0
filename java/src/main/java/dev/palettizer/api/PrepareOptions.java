package dev.palettizer.api;

import dev.palettizer.spec.SpecException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Settings of {@link KMeansPalettizer#prepare}.
 *
 * @param workers worker threads, across tensors and within each (>= 1; the seed's num_workers)
 * @param sensitivities safetensors file of per-element sensitivities under the weights' names (as
 *     {@link KMeansPalettizer#saveSensitivities} writes, or accumulated squared gradients), or null for
 *     unweighted k-means; normalised per tensor with the seed's rule when read
 * @param progress where progress goes; the console bar by default
 * @param backend the backend running the data-parallel steps ({@link Palettizer#BACKENDS})
 * @param seed seeds k-means++ (the optimal scalar path needs none); same input and seed, same bits
 */
public record PrepareOptions(int workers, Path sensitivities, ProgressOutput progress, String backend, long seed) {
    public PrepareOptions {
        if (workers < 1) {
            throw new SpecException("workers must be >= 1, got " + workers);
        }
        Objects.requireNonNull(progress, "progress");
        Objects.requireNonNull(backend, "backend");
    }

    /** All cores, no sensitivities, the console bar, the automatic backend, seed 0. */
    public static PrepareOptions defaults() {
        return new PrepareOptions(Runtime.getRuntime().availableProcessors(), null, ProgressOutput.CONSOLE, "auto", 0);
    }

    public PrepareOptions withWorkers(int n) {
        return new PrepareOptions(n, sensitivities, progress, backend, seed);
    }

    public PrepareOptions withSensitivities(Path file) {
        return new PrepareOptions(workers, file, progress, backend, seed);
    }

    public PrepareOptions withProgress(ProgressOutput p) {
        return new PrepareOptions(workers, sensitivities, p, backend, seed);
    }

    public PrepareOptions withBackend(String name) {
        return new PrepareOptions(workers, sensitivities, progress, name, seed);
    }

    public PrepareOptions withSeed(long s) {
        return new PrepareOptions(workers, sensitivities, progress, backend, s);
    }
}
