package dev.palettizer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.io.SafetensorsWriter;
import dev.palettizer.model.DType;
import dev.palettizer.nativeloader.Availability;
import dev.palettizer.nativeloader.CudaDriverProbe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --backend cuda}, {@code auto} and {@code backends} where CUDA cannot run: on this machine
 * as it is when it has no driver (the driver probe's own reason), and in fresh JVMs whose probes
 * are disabled ({@code -Dpalettizer.probe.disable}, read per JVM), which behave the same anywhere.
 */
class CudaCliTest {
    private static final String NO_DRIVER = "libcuda.so.1 not found (no NVIDIA driver on this machine)";
    private static final String DISABLED = "disabled by palettizer.probe.disable";

    @TempDir
    Path dir;

    /** The CLI in a fresh JVM with {@code -Dpalettizer.probe.disable=disabled}. */
    private CliTest.Run forked(String disabled, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dpalettizer.probe.disable=" + disabled,
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        int exit = p.waitFor();
        return new CliTest.Run(exit, Files.readString(out), Files.readString(err));
    }

    private Path model() throws IOException {
        Path in = dir.resolve("m.safetensors");
        new SafetensorsWriter().add(new SafetensorsWriter.Tensor("w", DType.F32, new long[] {64, 64},
                SafetensorsWriter.Payload.ofFloats(new float[64 * 64]))).write(in);
        return in;
    }

    private static void noDriverHere() {
        Availability a = CudaDriverProbe.get().availability();
        Assumptions.assumeFalse(a.available(), () -> "this machine has a CUDA driver: " + a.detail());
    }

    @Test
    void cudaWithoutADriverFailsWithOneLineNamingTheReason() throws IOException {
        noDriverHere();
        Path out = dir.resolve("out.safetensors");
        CliTest.Run r = CliTest.run("palettize", model().toString(), out.toString(), "--backend", "cuda");
        assertEquals(Main.FAILED, r.exit());
        assertEquals("palettizer: error: CUDA is not available: " + NO_DRIVER, r.err().strip());
        assertTrue(Files.notExists(out), "no output");
    }

    @Test
    void backendsListsCudaWithItsReasonAndAutoSaysWhyItFellBack() {
        noDriverHere();
        CliTest.Run r = CliTest.run("backends");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.contains("cuda (rank 0): unavailable: " + NO_DRIVER), r.out());
        assertTrue(lines.getLast().contains("(cuda: " + NO_DRIVER + "; "), lines.getLast());
    }

    @Test
    void autoFallsBackToJavaAndSaysWhy() throws IOException, InterruptedException {
        CliTest.Run r = forked("cuda,opencl", "palettize", model().toString(), dir.resolve("o.safetensors").toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("palettizer: backend auto -> java: no usable GPU (cuda: " + DISABLED + "; opencl: "),
                r.err());
    }

    @Test
    void disabledCudaFailsWithOneLineAndIsListedWithItsReason() throws IOException, InterruptedException {
        Path out = dir.resolve("out.safetensors");
        CliTest.Run r = forked("cuda", "palettize", model().toString(), out.toString(), "--backend", "cuda");
        assertEquals(Main.FAILED, r.exit());
        assertEquals("palettizer: error: CUDA is not available: " + DISABLED, r.err().strip());
        assertTrue(Files.notExists(out), "no output");
        CliTest.Run listing = forked("cuda,opencl", "backends");
        assertEquals(0, listing.exit(), listing.err());
        List<String> lines = listing.out().lines().toList();
        assertTrue(lines.contains("cuda (rank 0): unavailable: " + DISABLED), listing.out());
        assertTrue(lines.getLast().startsWith("auto -> java: no usable GPU (cuda: " + DISABLED + "; opencl: "),
                lines.getLast());
        CliTest.Run selftest = forked("cuda", "selftest", "--backend", "cuda");
        assertEquals(Main.FAILED, selftest.exit());
        assertTrue(selftest.err().strip().endsWith("palettizer: error: CUDA is not available: " + DISABLED),
                selftest.err());
    }
}
