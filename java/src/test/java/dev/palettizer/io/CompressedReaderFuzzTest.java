package dev.palettizer.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.palettizer.model.PalettizedTensor;
import java.nio.file.Path;

/**
 * Issue 15: coverage-guided fuzzing of the compressed-format reader (a safetensors file whose
 * metadata describes palettized tensors). Any input is read or rejected with a
 * {@link ModelFormatException}; anything else is a bug. Seeds and kept crashes:
 * {@code src/test/resources/dev/palettizer/io/CompressedReaderFuzzTestInputs/}.
 */
class CompressedReaderFuzzTest {
    private static final Path FILE = Path.of("fuzz.pal.safetensors");

    @FuzzTest(maxDuration = "30s")
    void compressed(byte[] input) {
        try (SafetensorsFile f = SafetensorsFile.parse(FILE, input)) {
            CompressedModel model = CompressedFormat.read(f);
            for (PalettizedTensor t : model.palettized()) {
                // The writer's own checks must accept whatever the reader accepted.
                CompressedFormat.entriesFor(t);
            }
        } catch (ModelFormatException expected) {
            // a malformed file, reported as such
        }
    }
}
