package dev.palettizer.bench;

import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.TensorInput;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.spec.PalettizationSpec;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * Measures the peak-memory claim: the smallest Java heap in which each end-to-end case of
 * {@link EndToEndBenchmark} still completes, found by bisection over child JVMs. The children use
 * the serial collector with an 8 MiB young generation, so the heap cap is close to the peak of live
 * data (inputs included) rather than to a collector's headroom.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.palettizer.bench.PeakHeap} prints a markdown table.
 */
public final class PeakHeap {
    private static final int STEP_MIB = 4;
    private static final long MATRIX_MIB = (long) WeightMatrix.ROWS * WeightMatrix.COLS * Float.BYTES >> 20;

    enum Case {
        PER_TENSOR_4BIT(EndToEndBenchmark.PER_TENSOR, false),
        GROUPED_CHANNEL_32_AXIS0(EndToEndBenchmark.GROUPED, false),
        PER_CHANNEL_WEIGHTED_4BIT(EndToEndBenchmark.PER_CHANNEL, true);

        final PalettizationSpec spec;
        final boolean weighted;

        Case(PalettizationSpec spec, boolean weighted) {
            this.spec = spec;
            this.weighted = weighted;
        }

        long inputMiB() {
            return MATRIX_MIB * (weighted ? 2 : 1);
        }
    }

    private PeakHeap() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length == 2 && args[0].equals("run")) {
            run(Case.valueOf(args[1]));
            return;
        }
        System.out.printf(Locale.ROOT, "Smallest heap (serial GC, 8 MiB young generation, %d MiB steps) in which one "
                + "palettization of the %dx%d fp32 matrix completes; the matrix is %d MiB.%n%n",
                STEP_MIB, WeightMatrix.ROWS, WeightMatrix.COLS, MATRIX_MIB);
        System.out.println("| Case | Inputs | Smallest heap | Heap / matrix | Beyond the inputs |");
        System.out.println("|---|---:|---:|---:|---:|");
        for (Case c : Case.values()) {
            long heap = smallestHeap(c);
            System.out.printf(Locale.ROOT, "| %s | %d MiB | %d MiB | %.2fx | %d MiB |%n",
                    c.name().toLowerCase(Locale.ROOT), c.inputMiB(), heap, heap / (double) MATRIX_MIB, heap - c.inputMiB());
        }
    }

    /** Bisection between the inputs alone (too small) and 8 matrices (enough). */
    private static long smallestHeap(Case c) throws IOException, InterruptedException {
        long low = c.inputMiB();
        long high = 8 * MATRIX_MIB;
        if (!completes(c, high)) {
            throw new IllegalStateException(c + " does not complete in " + high + " MiB");
        }
        while (high - low > STEP_MIB) {
            long mid = (low + high) / 2;
            if (completes(c, mid)) {
                high = mid;
            } else {
                low = mid;
            }
        }
        return high;
    }

    private static boolean completes(Case c, long heapMiB) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(List.of(java, "-XX:+UseSerialGC", "-Xmn8m", "-Xmx" + heapMiB + "m",
                ForkArgs.NATIVE_ACCESS, "-cp", System.getProperty("java.class.path"), PeakHeap.class.getName(), "run",
                c.name())).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor() == 0;
    }

    private static void run(Case c) {
        float[] w = WeightMatrix.weights(WeightMatrix.ROWS * WeightMatrix.COLS);
        TensorInput input = TensorInput.of("w", w, WeightMatrix.ROWS, WeightMatrix.COLS);
        if (c.weighted) {
            input = input.withSensitivities(new FloatArraySource(WeightMatrix.sensitivities(w.length)));
        }
        try (Palettizer palettizer = Palettizer.builder().workers(Runtime.getRuntime().availableProcessors()).build()) {
            palettizer.palettize(input, c.spec);
        }
    }
}
