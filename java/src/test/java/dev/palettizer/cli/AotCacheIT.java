package dev.palettizer.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's AOT cache only ever costs time (failsafe, on the packaged jar, through {@code ./palettizer}):
 * with the cache missing (the launcher makes it), present, corrupt, truncated, without the jar copy it was made
 * for (the launcher makes both again), or switched off, the same command writes the same bytes and exits 0, and
 * the JVM's complaints about a bad cache stay off stderr.
 */
class AotCacheIT {
    private static final Path JAR = Path.of(System.getProperty("palettizer.cliJar", "target/palettizer-cli.jar"))
            .toAbsolutePath();
    private static final Path ROOT = JAR.getParent().getParent().getParent();
    private static final Path LAUNCHER = ROOT.resolve("palettizer");
    private static final Path CACHE = JAR.resolveSibling("palettizer-cli.aot");
    /** The jar the cache is made from and used with (AotJar: picocli's classes as Java 8 class files). */
    private static final Path CACHE_JAR = JAR.resolveSibling("palettizer-cli-aot.jar");

    private record Run(int exit, String stderr, byte[] output) {
    }

    @Test
    void aMissingOrBrokenCacheOnlyCostsTime(@TempDir Path dir) throws IOException, InterruptedException {
        assertJarIsCurrent();
        Path input = dir.resolve("in.safetensors");
        writeLaplaceTensor(input, 512, 768);
        for (Path stale : List.of(CACHE, CACHE_JAR, sibling(".jdk"), sibling(".failed"), sibling(".log"))) {
            Files.deleteIfExists(stale);
        }

        Run made = run(dir, "missing", Map.of());
        assertTrue(Files.isRegularFile(CACHE) && Files.isRegularFile(CACHE_JAR),
                "the launcher made the cache and its jar: " + made.stderr());
        assertTrue(made.stderr().contains("making the AOT cache"), made.stderr());
        Run cached = run(dir, "cached", Map.of());

        Files.delete(CACHE_JAR);
        Run remade = run(dir, "jar-missing", Map.of());
        assertTrue(remade.stderr().contains("making the AOT cache"), remade.stderr());
        assertTrue(Files.isRegularFile(CACHE) && Files.isRegularFile(CACHE_JAR), remade.stderr());
        byte[] good = Files.readAllBytes(CACHE);

        Files.write(CACHE, corrupt(good));
        Run corrupt = run(dir, "corrupt", Map.of());
        Files.write(CACHE, Arrays.copyOf(good, good.length / 2));
        Run truncated = run(dir, "truncated", Map.of());
        Files.write(CACHE, good);
        Run off = run(dir, "off", Map.of("PALETTIZER_AOT", "off"));

        for (Run r : List.of(made, cached, remade, corrupt, truncated, off)) {
            assertEquals(0, r.exit(), r.stderr());
            assertArrayEquals(off.output(), r.output(), "same bytes with and without the cache");
        }
        for (Run r : List.of(cached, corrupt, truncated, off)) {
            assertFalse(r.stderr().contains("[aot]") || r.stderr().contains("AOT") || r.stderr().contains("[cds]"),
                    "the launcher is silent about the cache unless asked:\n" + r.stderr());
        }
    }

    /** Random bytes over the header (magic, version, checksums), the rest intact, length kept. */
    private static byte[] corrupt(byte[] good) {
        byte[] bad = good.clone();
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < Math.min(4096, bad.length); i++) {
            bad[i] = (byte) random.nextInt(256);
        }
        return bad;
    }

    private static Path sibling(String suffix) {
        return CACHE.resolveSibling(CACHE.getFileName() + suffix);
    }

    private static Run run(Path dir, String name, Map<String, String> env) throws IOException, InterruptedException {
        Path out = dir.resolve(name + ".safetensors");
        ProcessBuilder pb = new ProcessBuilder(LAUNCHER.toString(), "palettize", dir.resolve("in.safetensors").toString(),
                out.toString(), "--bits", "4", "--backend", "java", "--workers", "2")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(dir.resolve(name + ".err").toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("PALETTIZER_VERBOSE");
        pb.environment().remove("PALETTIZER_AOT");
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), name + ": the launcher finished");
        String stderr = Files.readString(dir.resolve(name + ".err"), StandardCharsets.UTF_8);
        return new Run(p.exitValue(), stderr, Files.exists(out) ? Files.readAllBytes(out) : new byte[0]);
    }

    /** The launcher rebuilds a jar older than its sources; inside a Maven run it must not, so refuse up front. */
    private static void assertJarIsCurrent() throws IOException {
        FileTime built = Files.getLastModifiedTime(JAR);
        List<Path> newer = new ArrayList<>();
        for (String tree : List.of("java/src/main", "native-loader/src/main", "kernels", "pom.xml", "java/pom.xml",
                "native-loader/pom.xml")) {
            try (Stream<Path> files = Files.walk(ROOT.resolve(tree))) {
                files.filter(f -> {
                    try {
                        return Files.getLastModifiedTime(f).compareTo(built) > 0;
                    } catch (IOException e) {
                        return true;
                    }
                }).forEach(newer::add);
            }
        }
        assertTrue(newer.isEmpty(), () -> "sources changed after " + JAR + " was built (" + newer.getFirst()
                + "); run mvn verify again");
    }

    /** One F32 tensor of Laplace(0, 0.02) values in a safetensors file. */
    private static void writeLaplaceTensor(Path file, int rows, int cols) throws IOException {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + rows + "," + cols + "],\"data_offsets\":[0,"
                + 4L * rows * cols + "]}}";
        byte[] json = (header + " ".repeat((8 - header.length() % 8) % 8)).getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + json.length + 4 * rows * cols).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(json.length).put(json);
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < rows * cols; i++) {
            double u = random.nextDouble() - 0.5;
            buf.putFloat((float) (-0.02 * Math.signum(u) * Math.log1p(-2 * Math.abs(u))));
        }
        Files.write(file, buf.array());
    }
}
