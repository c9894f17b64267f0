package dev.palettizer.api;

import java.nio.file.Path;

/**
 * Settings of {@link KMeansPalettizer#finalize(ExportFormat, Path, FinalizeOptions)}.
 *
 * @param mmapDir when set, the finalized weights (palettized ones rebuilt dense in their original
 *     dtype, the others copied) are also written to a safetensors file in this folder and mapped back,
 *     so the trainer can release its dense arrays (the seed's {@code mmap_dir}); the file must stay
 *     in place while the returned model is open. Null: nothing is mapped.
 */
public record FinalizeOptions(Path mmapDir) {
    public static FinalizeOptions defaults() {
        return new FinalizeOptions(null);
    }

    public FinalizeOptions withMmapDir(Path dir) {
        return new FinalizeOptions(dir);
    }
}
