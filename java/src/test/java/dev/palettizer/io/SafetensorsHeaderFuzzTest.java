package dev.palettizer.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;

/**
 * Issue 15: coverage-guided fuzzing of the safetensors header parser. Any input either opens (and
 * every float tensor then reads) or fails with a {@link ModelFormatException}; anything else is a
 * bug. Regression mode replays the seeds and kept crashes under
 * {@code src/test/resources/dev/palettizer/io/SafetensorsHeaderFuzzTestInputs/}; see the README's
 * "Fuzzing" for the fuzzing command.
 */
class SafetensorsHeaderFuzzTest {
    private static final Path FILE = Path.of("fuzz.safetensors");

    @FuzzTest(maxDuration = "30s")
    void header(byte[] input) {
        try (SafetensorsFile f = SafetensorsFile.parse(FILE, input)) {
            float[] some = new float[16];
            for (SafetensorsFile.Entry e : f.tensors()) {
                if (e.dtype().isPalettizable()) {
                    e.floats().read(0, some, 0, (int) Math.min(some.length, e.elementCount()));
                }
            }
        } catch (ModelFormatException expected) {
            // a malformed file, reported as such
        }
    }
}
