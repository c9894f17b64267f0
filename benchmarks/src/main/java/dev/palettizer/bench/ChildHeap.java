package dev.palettizer.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The smallest heap in which a run completes, found by bisection over child JVMs (serial GC, 8 MiB young
 * generation, so the heap bound is the live data's within a step): shared by {@link PeakHeap} and
 * {@link DkmMemoryTable}.
 */
final class ChildHeap {
    private ChildHeap() {}

    /** Whether a run completes with a heap of {@code heapMiB}. */
    @FunctionalInterface
    interface Run {
        boolean completes(long heapMiB) throws IOException, InterruptedException;
    }

    /** Bisects between {@code low} (too small) and {@code high} (completes) until they are within {@code step} MiB. */
    static long bisect(long low, long high, long step, Run run) throws IOException, InterruptedException {
        while (high - low > step) {
            long mid = (low + high) / 2;
            if (run.completes(mid)) {
                high = mid;
            } else {
                low = mid;
            }
        }
        return high;
    }

    /** Whether {@code main args} exits 0 in a child JVM on this class path with {@code -Xmx heapMiB} and {@code flags}. */
    static boolean completes(long heapMiB, List<String> flags, Class<?> main, String... args)
            throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> command = new ArrayList<>(List.of(java, "-XX:+UseSerialGC", "-Xmn8m", "-Xmx" + heapMiB + "m"));
        command.addAll(flags);
        command.addAll(List.of(ForkArgs.NATIVE_ACCESS, "-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor() == 0;
    }
}
