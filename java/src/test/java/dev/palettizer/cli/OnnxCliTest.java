package dev.palettizer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.io.TinyOnnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** palettize, inspect and decompress pick ONNX by the .onnx extension. */
class OnnxCliTest {
    @TempDir
    Path dir;

    @Test
    void palettizeInspectDecompress() throws Exception {
        Path in = TinyOnnx.mixed(13, 8).write(dir.resolve("in.onnx"));
        String compressed = dir.resolve("c.onnx").toString();
        String dense = dir.resolve("d.onnx").toString();
        CliTest.Run p = CliTest.run("palettize", in.toString(), compressed, "--bits", "3", "--weight-threshold", "256",
                "--workers", "2");
        assertEquals(0, p.exit(), p.err());
        assertTrue(p.out().contains("5 palettized"), p.out());
        assertEquals(0, CliTest.run("palettize", in.toString(), dense, "--bits", "3", "--weight-threshold", "256",
                "--onnx-output", "dense").exit());

        CliTest.Run inspect = CliTest.run("inspect", compressed);
        assertEquals(0, inspect.exit(), inspect.err());
        assertTrue(inspect.out().lines().anyMatch(l -> l.startsWith("onnx::MatMul_1") && l.contains("[64,96]")
                && l.contains("3-bit per-tensor")), inspect.out());
        assertTrue(inspect.out().lines().anyMatch(l -> l.startsWith("encoder.layer.0.dense.bias")
                && l.contains("plain FLOAT")), inspect.out());

        Path restored = dir.resolve("r.onnx");
        assertEquals(0, CliTest.run("decompress", compressed, restored.toString()).exit());
        assertArrayEquals(Files.readAllBytes(Path.of(dense)), Files.readAllBytes(restored));
    }

    @Test
    void badOnnxInputsFailWithOneLine() throws Exception {
        Path in = TinyOnnx.mixed(13, 8).write(dir.resolve("in.onnx"));
        CliTest.Run wrongOut = CliTest.run("palettize", in.toString(), dir.resolve("o.safetensors").toString());
        assertEquals(Main.FAILED, wrongOut.exit());
        assertTrue(wrongOut.err().contains("output must be an .onnx file"), wrongOut.err());

        byte[] full = Files.readAllBytes(in);
        Path truncated = dir.resolve("t.onnx");
        Files.write(truncated, Arrays.copyOf(full, full.length / 2));
        CliTest.Run bad = CliTest.run("palettize", truncated.toString(), dir.resolve("o.onnx").toString());
        assertEquals(Main.FAILED, bad.exit());
        // The line about the chosen backend comes first; the error is one line.
        List<String> errors = bad.err().lines().filter(l -> !l.startsWith("palettizer: backend")).toList();
        assertEquals(1, errors.size(), bad.err());
        assertTrue(errors.getFirst().startsWith("palettizer: error: " + truncated), bad.err());
        assertFalse(Files.exists(dir.resolve("o.onnx")));

        CliTest.Run plain = CliTest.run("decompress", in.toString(), dir.resolve("p.onnx").toString());
        assertEquals(Main.FAILED, plain.exit());
        assertTrue(plain.err().contains("not a palettized ONNX model"), plain.err());
    }
}
