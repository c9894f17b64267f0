package dev.palettizer.cli;

import dev.palettizer.io.CheckpointFolder;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.spec.SpecException;
import java.nio.file.Path;

/**
 * Which format a command reads: checkpoint folders (a directory, or its {@code *.safetensors.index.json}),
 * ONNX models by their .onnx extension, safetensors files otherwise.
 */
final class ModelFiles {
    private ModelFiles() {}

    static boolean isFolder(Path path) {
        return CheckpointFolder.isFolder(path);
    }

    static boolean isOnnx(Path file) {
        return OnnxModel.hasOnnxName(file);
    }

    /** An ONNX input is written as ONNX, so the output must say so too. */
    static Path onnxOutput(Path in, Path out) {
        if (!isOnnx(out)) {
            throw new SpecException(in + " is an ONNX model, so the output must be an .onnx file too, got " + out);
        }
        return out;
    }
}
