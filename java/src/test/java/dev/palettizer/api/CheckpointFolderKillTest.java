package dev.palettizer.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.palettizer.io.CheckpointFixture;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, must-show 3: {@code kill -9} of a folder-to-folder {@code palettize} at random points.
 * Each trial starts the command line in a child JVM, waits for its backend line (the job starts right
 * after), then kills it (SIGKILL) after a random delay up to 1.25 times the job's measured length. Afterwards
 * the output path holds nothing, the previous complete output (every other trial starts with one,
 * written with another spec so it can be told apart) or the new complete output; and the input folder
 * is byte-identical. {@value #DEFAULT_TRIALS} trials by default ({@code -Dpalettizer.killTrials=N} for
 * more); the outcome counts are printed.
 */
class CheckpointFolderKillTest {
    private static final int DEFAULT_TRIALS = 20;
    private static final CheckpointFixture.Dims DIMS = new CheckpointFixture.Dims(128, 384, 2048, 4);

    @TempDir
    Path dir;

    @Test
    void killedJobsLeaveNothingOrACompleteOutput() throws Exception {
        int trials = Integer.getInteger("palettizer.killTrials", DEFAULT_TRIALS);
        Path in = CheckpointFixture.write(dir.resolve("in"), 11, DIMS);
        Map<String, byte[]> input = CheckpointFixture.snapshot(in);
        Path out = dir.resolve("out");

        Path previousDir = dir.resolve("previous");
        assertEquals(0, runToEnd(in, previousDir, "2"));
        Map<String, byte[]> previous = CheckpointFixture.snapshot(previousDir);
        long started = System.nanoTime();
        assertEquals(0, runToEnd(in, dir.resolve("complete"), "4"));
        Map<String, byte[]> complete = CheckpointFixture.snapshot(dir.resolve("complete"));
        long jobNanos = measureJob(in, dir.resolve("timed"));

        SplittableRandom random = new SplittableRandom(Long.getLong("palettizer.killSeed", 15));
        Map<String, Integer> outcomes = new TreeMap<>();
        for (int t = 0; t < trials; t++) {
            int trial = t;
            deleteTree(out);
            boolean withPrevious = trial % 2 == 1;
            if (withPrevious) {
                copyTree(previousDir, out);
            }
            long delay = (long) (random.nextDouble() * jobNanos * 1.25);
            String outcome = killAfter(in, out, delay);
            String state;
            if (!Files.exists(out)) {
                state = "nothing";
            } else {
                Map<String, byte[]> now = CheckpointFixture.snapshot(out);
                if (withPrevious && same(now, previous)) {
                    state = "previous";
                } else if (same(now, complete)) {
                    state = "new complete";
                } else {
                    fail("trial " + trial + " (" + outcome + " after " + delay / 1_000_000 + " ms): partial output "
                            + now.keySet());
                    return;
                }
            }
            outcomes.merge(outcome + " -> " + state, 1, Integer::sum);
            Map<String, byte[]> after = CheckpointFixture.snapshot(in);
            assertEquals(input.keySet(), after.keySet(), "trial " + trial + ": input files");
            input.forEach((k, v) -> assertArrayEquals(v, after.get(k), "trial " + trial + ": input " + k));
        }
        // Killed jobs leave their temporary folder beside the output; a new job still completes.
        long leftovers;
        try (Stream<Path> list = Files.list(dir)) {
            leftovers = list.filter(p -> p.getFileName().toString().startsWith(".out.")).count();
        }
        assertEquals(0, runToEnd(in, out, "4"));
        assertTrue(same(CheckpointFixture.snapshot(out), complete), "a job after the kills completes");
        System.out.printf("kill test: %d trials in %.1f s, job %.0f ms, outcomes %s, %d temporary folders left by"
                + " killed jobs%n", trials, (System.nanoTime() - started) / 1e9, jobNanos / 1e6, outcomes, leftovers);
    }

    private static List<String> command(Path in, Path out, String bits) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return List.of(java, "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.palettizer.cli.Main", "palettize", in.toString(), out.toString(), "--bits", bits,
                "--backend", "java", "--workers", "1", "--max-shard-size", "1MB");
    }

    private int runToEnd(Path in, Path out, String bits) throws Exception {
        Process p = new ProcessBuilder(command(in, out, bits)).redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile()).start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "child finished");
        if (p.exitValue() != 0) {
            System.out.println(Files.readString(dir.resolve("child.log")));
        }
        return p.exitValue();
    }

    /** From the backend line (the job starts right after it) to the exit, in ns. */
    private long measureJob(Path in, Path out) throws Exception {
        Process p = start(in, out);
        long begun = System.nanoTime();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue());
        return System.nanoTime() - begun;
    }

    /** Starts the job and returns once it announced its backend. */
    private Process start(Path in, Path out) throws IOException {
        Process p = new ProcessBuilder(command(in, out, "4")).redirectErrorStream(true).start();
        BufferedReader lines = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = lines.readLine()) != null && !line.startsWith("palettizer: backend")) {
            // JVM and Maven noise before the job starts
        }
        // Keep draining so the child never blocks on a full pipe; the pipe closes when the child is killed.
        Thread drain = new Thread(() -> {
            try {
                lines.lines().forEach(l -> { });
            } catch (java.io.UncheckedIOException closed) {
                // the child is gone
            }
        });
        drain.setDaemon(true);
        drain.start();
        return p;
    }

    private String killAfter(Path in, Path out, long delayNanos) throws Exception {
        Process p = start(in, out);
        TimeUnit.NANOSECONDS.sleep(delayNanos);
        if (!p.isAlive()) {
            p.waitFor();
            return "finished (exit " + p.exitValue() + ")";
        }
        p.destroyForcibly(); // SIGKILL on Linux
        p.waitFor();
        return "killed";
    }

    private static boolean same(Map<String, byte[]> a, Map<String, byte[]> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        return a.entrySet().stream().allMatch(e -> java.util.Arrays.equals(e.getValue(), b.get(e.getKey())));
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        List<Path> all;
        try (Stream<Path> walk = Files.walk(root)) {
            all = new ArrayList<>(walk.toList());
        }
        java.util.Collections.reverse(all);
        for (Path p : all) {
            Files.delete(p);
        }
    }
}
