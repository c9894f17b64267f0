package dev.palettizer.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An empty scratch folder for the fuzz targets: a model read from memory is named as a file in it, so
 * that the external data files an ONNX input names are looked up there (and are missing).
 */
final class FuzzFiles {
    private static final Path DIR;

    static {
        try {
            DIR = Files.createTempDirectory("palettizer-fuzz");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private FuzzFiles() {}

    static Path scratch(String name) {
        return DIR.resolve(name);
    }
}
