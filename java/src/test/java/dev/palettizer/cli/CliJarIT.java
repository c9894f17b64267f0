package dev.palettizer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/**
 * The packaged CLI jar (failsafe, after the shade): it carries the prebuilt CUDA fatbin and its
 * sources hash exactly as committed, JCuda's driver-API natives but not the ones no code uses, and
 * it runs: {@code backends} lists the cuda provider.
 */
class CliJarIT {
    private static final Path JAR = Path.of(System.getProperty("palettizer.cliJar", "target/palettizer-cli.jar"));
    private static final Path KERNELS = Path.of(System.getProperty("palettizer.kernels", "../kernels"));
    /** The jar was 16 MB with every JCuda native in it; the natives left out are ~9 MB of it. */
    private static final long MAX_JAR_BYTES = 12L << 20;

    private static byte[] entry(JarFile jar, String name) throws IOException {
        ZipEntry e = jar.getEntry(name);
        assertNotNull(e, name + " missing from " + JAR);
        try (InputStream in = jar.getInputStream(e)) {
            return in.readAllBytes();
        }
    }

    @Test
    void theJarCarriesTheCommittedFatbinAndItsHash() throws IOException {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            byte[] fatbin = entry(jar, "kernels/cuda/prebuilt/palettizer.fatbin");
            assertTrue(fatbin.length > 0, "empty fatbin");
            assertArrayEquals(Files.readAllBytes(KERNELS.resolve("cuda/prebuilt/palettizer.fatbin")), fatbin);
            assertArrayEquals(Files.readAllBytes(KERNELS.resolve("cuda/prebuilt/palettizer.fatbin.sources.sha256")),
                    entry(jar, "kernels/cuda/prebuilt/palettizer.fatbin.sources.sha256"));
            for (String source : List.of("kernels/cuda/palettizer.cu", "kernels/cuda/dialect.cuh", "kernels/cuda/nvcc.flags",
                    "kernels/common/palettizer_core.h")) {
                entry(jar, source);
            }
            assertNull(jar.getEntry("kernels/cuda/build-fatbin"), "the build script is no resource");
            assertTrue(new String(entry(jar, "META-INF/services/dev.palettizer.backend.BackendProvider"),
                    StandardCharsets.UTF_8).contains("dev.palettizer.backend.cuda.CudaBackendProvider"));
        }
    }

    @Test
    void onlyTheJCudaNativesInUseAreShaded() throws IOException {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            assertNotNull(jar.getEntry("lib/libJCudaDriver-12.6.0-linux-x86_64.so"));
            assertNotNull(jar.getEntry("lib/libJCublas2-12.6.0-linux-x86_64.so"), "the JCublas probe loads it");
            for (String unused : List.of("libJNvPTXCompiler", "libJNvrtc", "libJCudaRuntime", "libJCublas-")) {
                assertTrue(jar.stream().noneMatch(e -> e.getName().startsWith("lib/" + unused)), unused + " shaded");
            }
        }
        assertTrue(Files.size(JAR) < MAX_JAR_BYTES, JAR + " is " + Files.size(JAR) + " bytes");
    }

    @Test
    void theJarListsTheCudaBackend() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-jar", JAR.toString(), "backends").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("cuda (rank 0): ")), out);
    }
}
