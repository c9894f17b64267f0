package dev.palettizer.calibrate;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** Runs the calibrate command in-process, in a fresh folder per test. */
abstract class CommandTest {
    @TempDir
    Path dir;

    record Output(int code, String err) {}

    /** Runs the command; arguments naming files (.onnx, .safetensors, .txt, .json) are taken in the test folder. */
    Output cli(String... args) {
        String[] resolved = args.clone();
        for (int i = 0; i < resolved.length; i++) {
            String a = resolved[i];
            if (!a.startsWith("/") && (a.endsWith(".onnx") || a.endsWith(".safetensors") || a.endsWith(".txt")
                    || a.endsWith(".json"))) {
                resolved[i] = dir.resolve(a).toString();
            }
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = CalibrateMain.execute(new PrintStream(err, true, StandardCharsets.UTF_8), resolved);
        return new Output(code, err.toString(StandardCharsets.UTF_8));
    }
}
