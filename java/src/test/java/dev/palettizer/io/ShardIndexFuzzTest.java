package dev.palettizer.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.file.Path;

/**
 * Issue 15: coverage-guided fuzzing of the checkpoint index reader
 * ({@code model.safetensors.index.json}). Any input parses (and writes back to an equal index) or
 * fails with a {@link ModelFormatException}; anything else is a bug. Seeds and kept crashes:
 * {@code src/test/resources/dev/palettizer/io/ShardIndexFuzzTestInputs/}.
 */
class ShardIndexFuzzTest {
    private static final Path FILE = Path.of("fuzz", ShardIndex.FILE_NAME);

    @FuzzTest(maxDuration = "30s")
    void index(byte[] input) {
        ShardIndex index;
        try {
            index = ShardIndex.parse(FILE, input);
        } catch (ModelFormatException expected) {
            return; // a malformed index, reported as such
        }
        ShardIndex again = ShardIndex.parse(FILE, index.toJson());
        if (!again.equals(index)) {
            throw new AssertionError("index does not survive a write and read: " + index + " vs " + again);
        }
    }
}
