package dev.palettizer.engine;

import dev.palettizer.spec.SpecException;
import java.util.Locale;

/** What {@code palettize} writes for an ONNX model. */
public enum OnnxOutput {
    /** Each palettized weight as LUT + packed indices (+ scales), expanded in the graph by standard operators. */
    COMPRESSED,
    /** Each palettized weight replaced by its reconstruction in its original dtype. */
    DENSE;

    public static OnnxOutput parse(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "compressed" -> COMPRESSED;
            case "dense" -> DENSE;
            default -> throw new SpecException("ONNX output must be compressed or dense, got '" + text + "'");
        };
    }
}
