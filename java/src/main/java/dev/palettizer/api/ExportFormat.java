package dev.palettizer.api;

/** What {@link KMeansPalettizer#finalize(ExportFormat, java.nio.file.Path)} writes. */
public enum ExportFormat {
    /** The compressed safetensors file of the README's format (LUTs, packed indices, scales); for safetensors and array models. */
    COMPRESSED_SAFETENSORS,
    /**
     * The ONNX model with each palettized weight stored as LUT and indices and expanded in the graph by
     * standard operators (the README's compressed ONNX); for models opened from ONNX.
     */
    ONNX,
    /** The ONNX model with each palettized weight replaced by its dense reconstruction; for models opened from ONNX. */
    DENSE_ONNX
}
