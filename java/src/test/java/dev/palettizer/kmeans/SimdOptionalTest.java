package dev.palettizer.kmeans;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The Vector API stays optional: a JVM started without {@code --add-modules jdk.incubator.vector} runs the DP
 * on the scalar kernel with the same bits as the SIMD kernel here; with the module, {@code auto} takes the SIMD
 * kernel and {@code off} the scalar one; {@code on} without the module fails saying what to add, and a misspelt
 * mode is refused by name.
 */
class SimdOptionalTest {
    /** Fresh JVMs running {@link Probe}. */
    private static Child child(String... options) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m"));
        command.addAll(List.of(options));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe finished");
        return new Child(p.exitValue(), out);
    }

    private record Child(int exit, String output) {}

    @Test
    void withoutTheModuleTheScalarKernelGivesTheSameBits() throws Exception {
        Child child = child();
        assertEquals(0, child.exit(), child.output());
        assertEquals("ScalarSplitKernel\n" + digest(SplitKernels.vector().orElseThrow()) + "\n", child.output());
        assertEquals(digest(SplitKernels.vector().orElseThrow()), digest(ScalarSplitKernel.INSTANCE));
    }

    @Test
    void withTheModuleAutoTakesTheSimdKernelAndOffTheScalarOne() throws Exception {
        Child auto = child("--add-modules=jdk.incubator.vector", "-Dpalettizer.simd=auto");
        assertEquals(0, auto.exit(), auto.output());
        assertTrue(auto.output().endsWith("VectorSplitKernel\n" + digest(ScalarSplitKernel.INSTANCE) + "\n"), auto.output());
        Child off = child("--add-modules=jdk.incubator.vector", "-Dpalettizer.simd=off");
        assertEquals(0, off.exit(), off.output());
        assertTrue(off.output().endsWith("ScalarSplitKernel\n" + digest(ScalarSplitKernel.INSTANCE) + "\n"), off.output());
    }

    @Test
    void onWithoutTheModuleSaysWhatToAdd() throws Exception {
        Child child = child("-Dpalettizer.simd=on");
        assertEquals(1, child.exit(), child.output());
        assertTrue(child.output().contains("palettizer.simd=on needs the SIMD kernel, which needs the JVM option "
                + "--add-modules jdk.incubator.vector"), child.output());
    }

    @Test
    void aMisspeltModeIsRefused() throws Exception {
        Child child = child("-Dpalettizer.simd=yes");
        assertEquals(1, child.exit(), child.output());
        assertTrue(child.output().contains("system property palettizer.simd is 'yes'; it must be auto, on or off"),
                child.output());
    }

    /** SHA-256 over the centroids of benchmark-like rows and stress inputs, with {@code kernel}. */
    static String digest(SplitKernel kernel) throws NoSuchAlgorithmException {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        SplittableRandom r = new SplittableRandom(9);
        for (int t = 0; t < 24; t++) {
            double[][] in = t % 3 == 0 ? OptimalKMeans1DEquivalenceTest.benchmarkRow(r)
                    : OptimalKMeans1DEquivalenceTest.input(r, t % 8, 1 + r.nextInt(1500));
            OptimalKMeans1D dp = kernel == null ? new OptimalKMeans1D(in[0], in[1]) : new OptimalKMeans1D(in[0], in[1], kernel);
            for (double c : dp.centroids(16)) {
                long bits = Double.doubleToRawLongBits(c);
                for (int b = 0; b < 8; b++) {
                    sha.update((byte) (bits >>> (8 * b)));
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** Prints the process's kernel, then the digest with it. */
    static final class Probe {
        public static void main(String[] args) throws Exception {
            try {
                System.out.println(SplitKernels.chosen().getClass().getSimpleName());
                System.out.println(digest(null));
            } catch (RuntimeException | ExceptionInInitializerError e) {
                System.out.println(e);
                System.exit(1);
            }
        }
    }
}
