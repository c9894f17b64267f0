package dev.palettizer.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Issue 15: coverage-guided fuzzing of the ONNX reader (protobuf, initializers, palettized-weight
 * metadata). Any input opens (its float initializers then read, a palettized model's weights parse)
 * or fails with a {@link ModelFormatException}; anything else is a bug. Seeds and kept crashes:
 * {@code src/test/resources/dev/palettizer/io/OnnxReaderFuzzTestInputs/}.
 */
class OnnxReaderFuzzTest {
    /** Named in an empty folder: external data the input names is looked up there, and missing. */
    private static final Path FILE = FuzzFiles.scratch("fuzz.onnx");

    @FuzzTest(maxDuration = "30s")
    void onnx(byte[] input) throws IOException {
        try (OnnxModel m = OnnxModel.parse(FILE, input)) {
            float[] some = new float[16];
            for (OnnxInitializer t : m.initializers()) {
                if (t.type().isPalettizable()) {
                    t.floats().read(0, some, 0, (int) Math.min(some.length, t.elementCount()));
                }
            }
            if (OnnxCompressedFormat.isCompressed(m)) {
                OnnxCompressedFormat.read(m);
            }
        } catch (ModelFormatException expected) {
            // a malformed model, reported as such
        }
    }
}
