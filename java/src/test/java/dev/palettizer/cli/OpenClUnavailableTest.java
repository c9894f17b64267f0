package dev.palettizer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --backend opencl} on a machine without OpenCL: simulated in a fresh JVM whose OpenCL probe
 * is disabled (the probe is cached per JVM), which must fail with one line saying why.
 */
class OpenClUnavailableTest {
    @TempDir
    Path dir;

    @Test
    void openClWithoutAPlatformFailsWithTheProbesReason() throws IOException, InterruptedException {
        Path in = dir.resolve("m.safetensors");
        new SafetensorsWriter().add(new SafetensorsWriter.Tensor("w", DType.F32, new long[] {64, 64},
                SafetensorsWriter.Payload.ofFloats(new float[64 * 64]))).write(in);
        Path out = dir.resolve("out.safetensors");
        Path err = dir.resolve("err.txt");
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dpalettizer.probe.disable=opencl",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "palettize", in.toString(), out.toString(), "--backend", "opencl"))
                .redirectError(err.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertEquals(Main.FAILED, p.waitFor());
        String message = Files.readString(err, StandardCharsets.UTF_8).strip();
        assertEquals(1, message.lines().count(), message);
        assertTrue(message.startsWith("palettizer: error: OpenCL is not available: disabled by palettizer.probe.disable"),
                message);
        assertTrue(Files.notExists(out), "no output");
    }
}
