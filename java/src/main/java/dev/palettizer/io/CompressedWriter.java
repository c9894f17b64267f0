package dev.palettizer.io;

import dev.palettizer.io.SafetensorsWriter.Tensor;
import dev.palettizer.model.PalettizedTensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a compressed model: palettized tensors in the {@link CompressedFormat} layout and plain
 * tensors copied under their own names, streamed in the order added. Rejects a plain tensor whose
 * name is one the format reserves for a palettized tensor (whichever is added first), since the
 * reader could not tell them apart.
 */
public final class CompressedWriter {
    private final SafetensorsWriter writer = new SafetensorsWriter()
            .putMetadata(CompressedFormat.FORMAT_KEY, CompressedFormat.FORMAT_VERSION);
    /** Palettized tensor names and the names reserved for them, mapped to the palettized tensor. */
    private final Map<String, String> reservedBy = new HashMap<>();
    private final Set<String> plainNames = new HashSet<>();

    /** Adds the tensors and metadata of {@code t}; nothing is added if it is rejected. */
    public CompressedWriter addPalettized(PalettizedTensor t) {
        List<String> names = new ArrayList<>(CompressedFormat.reservedNames(t.name()));
        names.add(t.name());
        for (String name : names) {
            String owner = reservedBy.get(name);
            if (owner != null) {
                throw collision(name, owner);
            }
            if (plainNames.contains(name)) {
                throw collision(name, t.name());
            }
        }
        List<Tensor> entries = CompressedFormat.entriesFor(t);
        Map<String, String> metadata = CompressedFormat.metadataFor(t);
        names.forEach(name -> reservedBy.put(name, t.name()));
        writer.addAll(entries);
        writer.putAllMetadata(metadata);
        return this;
    }

    /** Adds a tensor stored as it is, e.g. {@link Tensor#copyOf} an input entry. */
    public CompressedWriter addPlain(Tensor tensor) {
        String owner = reservedBy.get(tensor.name());
        if (owner != null) {
            throw collision(tensor.name(), owner);
        }
        writer.add(tensor);
        plainNames.add(tensor.name());
        return this;
    }

    /** Adds user metadata; keys starting with {@code palettizer.} belong to the format. */
    public CompressedWriter putMetadata(String key, String value) {
        if (key.startsWith("palettizer.")) {
            throw new IllegalArgumentException("metadata key '" + key + "' is reserved for the compressed format");
        }
        writer.putMetadata(key, value);
        return this;
    }

    /** See {@link SafetensorsWriter#forbidOverwriting}. */
    public CompressedWriter forbidOverwriting(Path input) {
        writer.forbidOverwriting(input);
        return this;
    }

    /** See {@link SafetensorsWriter#write}. */
    public void write(Path out) throws IOException {
        writer.write(out);
    }

    private static IllegalArgumentException collision(String name, String owner) {
        return new IllegalArgumentException("tensor name '" + name + "' collides with palettized tensor '" + owner
                + "', whose stored tensors are named " + CompressedFormat.reservedNames(owner));
    }
}
