package dev.palettizer.calibrate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Must-show 4: calibration data that does not fit the model fails with one clear line, and no output is left. */
class BadInputTest extends CommandTest {

    @BeforeEach
    void model() throws IOException {
        new TinyModel().write(dir.resolve("tiny.onnx"));
    }

    @Test
    void tensorNotNamedAfterAnInput() throws IOException {
        write(f32("x", 2, 3, 4), f32("y", 2, 3));
        fails("tensor 'y': is not an input of the model (its inputs: x, ids); rename it or remove it");
    }

    @Test
    void inputWithoutATensor() throws IOException {
        write(f32("x", 2, 3, 4));
        fails("no tensor 'ids' for model input 'ids' (INT64 [?]); add one shaped [samples, ?]");
    }

    @Test
    void wrongChannelCount() throws IOException {
        write(f32("x", 2, 3, 5), i64("ids", 2, 3));
        fails("tensor 'x': field shape: [2, 3, 5] but model input 'x' is [?, 4] (dimension 1 must be 4);"
                + " expected [samples, ?, 4]");
    }

    @Test
    void missingSampleAxis() throws IOException {
        write(f32("x", 3, 4), i64("ids", 2, 3));
        fails("tensor 'x': field shape: [3, 4] has 2 dimensions but model input 'x' is [?, 4]: expected [samples, ?, 4]");
    }

    @Test
    void wrongElementType() throws IOException {
        write(f32("x", 2, 3, 4), f32("ids", 2, 3));
        fails("tensor 'ids': field dtype: F32 but model input 'ids' takes INT64 (safetensors I64)");
    }

    @Test
    void differentSampleCounts() throws IOException {
        write(f32("x", 2, 3, 4), i64("ids", 5, 3));
        fails("holds 5 samples but tensor");
    }

    @Test
    void noSamples() throws IOException {
        write(f32("x", 0, 3, 4), i64("ids", 0, 3));
        fails("field shape: holds 0 samples; calibration needs at least one");
    }

    @Test
    void batchesThatDoNotAgreeFailInTheRunNamingTheSample() throws IOException {
        write(f32("x", 2, 3, 4), i64("ids", 2, 2));
        fails("tensors from data.safetensors: sample 0: ONNX Runtime failed");
    }

    @Test
    void emptyTextFile() throws IOException {
        Files.writeString(dir.resolve("texts.txt"), "\n  \n");
        Files.writeString(dir.resolve("tok.json"), "{}");
        Output run = cli("tiny.onnx", "--out", "s.safetensors", "--texts", "texts.txt", "--tokenizer", "tok.json");
        assertFailed(run, "texts.txt: holds no text (one text per line expected)");
    }

    @Test
    void textsOnAModelWithoutTextInputs() throws IOException {
        Files.writeString(dir.resolve("texts.txt"), "a sentence\n");
        Output run = cli("tiny.onnx", "--out", "s.safetensors", "--texts", "texts.txt", "--tokenizer",
                MiniLmTest.minilm(dir).tokenizer().toString());
        assertFailed(run, "the model has no input 'input_ids' (its inputs: x, ids): texts feed text encoders only; use --inputs");
    }

    @Test
    void failureLeavesAnEarlierOutputAsItWas() throws IOException {
        Files.writeString(dir.resolve("s.safetensors"), "earlier");
        write(f32("x", 2, 3, 5), i64("ids", 2, 3));
        Output run = cli("tiny.onnx", "--out", "s.safetensors", "--inputs", "data.safetensors");
        assertEquals(1, run.code(), run.err());
        assertEquals("earlier", Files.readString(dir.resolve("s.safetensors")));
    }

    @Test
    void usageErrors() throws IOException {
        write(f32("x", 2, 3, 4), i64("ids", 2, 3));
        assertEquals(2, cli("tiny.onnx", "--out", "s.safetensors", "--inputs", "data.safetensors", "--max-samples", "0").code());
        assertEquals(2, cli("tiny.onnx", "--out", "s.safetensors").code());
        assertEquals(2, cli("tiny.onnx", "--out", "s.safetensors", "--inputs", "data.safetensors", "--builtin-texts").code());
        Output self = cli("tiny.onnx", "--out", "data.safetensors", "--inputs", "data.safetensors");
        assertEquals(1, self.code(), self.err());
        assertNoOutput();
    }

    private void fails(String expected) {
        assertFailed(cli("tiny.onnx", "--out", "s.safetensors", "--inputs", "data.safetensors"), expected);
    }

    private void assertFailed(Output run, String expected) {
        assertEquals(1, run.code(), run.err());
        assertTrue(run.err().startsWith("palettizer: error: "), run.err());
        assertTrue(run.err().contains(expected), run.err());
        assertEquals(1, run.err().strip().lines().count(), run.err());
        assertNoOutput();
    }

    private void assertNoOutput() {
        assertTrue(Files.notExists(dir.resolve("s.safetensors")));
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList();
            assertEquals(List.of(), names, "temporary files left");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void write(SafetensorsWriter.Tensor... tensors) throws IOException {
        new SafetensorsWriter().addAll(List.of(tensors)).write(dir.resolve("data.safetensors"));
    }

    private static SafetensorsWriter.Tensor f32(String name, long... shape) {
        int n = (int) java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact);
        return new SafetensorsWriter.Tensor(name, DType.F32, shape, SafetensorsWriter.Payload.ofFloats(new float[n]));
    }

    private static SafetensorsWriter.Tensor i64(String name, long... shape) {
        int n = (int) java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact);
        return new SafetensorsWriter.Tensor(name, DType.I64, shape, SafetensorsWriter.Payload.of(new byte[n * 8]));
    }
}
