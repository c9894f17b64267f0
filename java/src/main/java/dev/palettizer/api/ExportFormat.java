package dev.palettizer.api;

/** What {@link KMeansPalettizer#finalize(ExportFormat, java.nio.file.Path)} writes. */
public enum ExportFormat {
    /** The compressed safetensors file of the README's format (LUTs, packed indices, scales). */
    COMPRESSED_SAFETENSORS,
    /** An ONNX model; not supported by this build yet. */
    ONNX
}
