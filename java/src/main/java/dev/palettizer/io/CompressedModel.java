package dev.palettizer.io;

import dev.palettizer.model.PalettizedTensor;
import java.util.List;
import java.util.Optional;

/**
 * The content of a compressed file: its palettized tensors (in metadata order, LUTs dequantized) and
 * the names of the tensors stored as they are, in header order, to be read from the file itself.
 */
public record CompressedModel(List<PalettizedTensor> palettized, List<String> plainTensors) {
    public CompressedModel {
        palettized = List.copyOf(palettized);
        plainTensors = List.copyOf(plainTensors);
    }

    public Optional<PalettizedTensor> palettized(String name) {
        return palettized.stream().filter(t -> t.name().equals(name)).findFirst();
    }
}
