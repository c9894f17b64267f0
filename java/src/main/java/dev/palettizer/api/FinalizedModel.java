package dev.palettizer.api;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@link KMeansPalettizer#finalize(ExportFormat, Path, FinalizeOptions)} produced: the exported
 * file and, when a mmap folder was given, the finalized weights mapped from the file written there.
 * Close it to unmap them.
 */
public final class FinalizedModel implements AutoCloseable {
    private final ExportFormat format;
    private final Path output;
    private final ModelWeights mapped;

    FinalizedModel(ExportFormat format, Path output, ModelWeights mapped) {
        this.format = Objects.requireNonNull(format, "format");
        this.output = Objects.requireNonNull(output, "output");
        this.mapped = mapped;
    }

    public ExportFormat format() {
        return format;
    }

    /** The exported file. */
    public Path output() {
        return output;
    }

    /**
     * The finalized weights (palettized ones dense, in their original dtype), each a view of the
     * mapped file in the mmap folder; empty when no folder was given.
     */
    public Optional<ModelWeights> mapped() {
        return Optional.ofNullable(mapped);
    }

    /** Unmaps the mapped weights, if any; closing again does nothing. */
    @Override
    public void close() {
        if (mapped != null) {
            mapped.close();
        }
    }
}
