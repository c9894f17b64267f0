package dev.palettizer.bench;

import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.TensorInput;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.spec.PalettizationSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Measures the peak-memory claim: the smallest Java heap in which each end-to-end case of
 * {@link EndToEndBenchmark} still completes, found by bisection over child JVMs. The children use
 * the serial collector with an 8 MiB young generation, so the heap cap is close to the peak of live
 * data (inputs included) rather than to a collector's headroom.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.palettizer.bench.PeakHeap [--into README.md]} prints a markdown
 * table and, with {@code --into}, writes it into the file's {@code peak-heap} block.
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
        StringBuilder table = new StringBuilder();
        table.append(String.format(Locale.ROOT, "Smallest heap (serial GC, 8 MiB young generation, %d MiB steps) in which one "
                + "palettization of the %dx%d fp32 matrix completes; the matrix is %d MiB.%n%n",
                STEP_MIB, WeightMatrix.ROWS, WeightMatrix.COLS, MATRIX_MIB));
        table.append("| Case | Inputs | Smallest heap | Heap / matrix | Beyond the inputs |\n");
        table.append("|---|---:|---:|---:|---:|\n");
        for (Case c : Case.values()) {
            long heap = smallestHeap(c);
            table.append(String.format(Locale.ROOT, "| %s | %d MiB | %d MiB | %.2fx | %d MiB |%n",
                    c.name().toLowerCase(Locale.ROOT), c.inputMiB(), heap, heap / (double) MATRIX_MIB, heap - c.inputMiB()));
        }
        System.out.print(table);
        if (args.length == 2 && args[0].equals("--into")) {
            MarkdownBlock.replace(Path.of(args[1]), "peak-heap", table.toString());
        }
    }

    /** Bisection between the inputs alone (too small) and 8 matrices (enough). */
    private static long smallestHeap(Case c) throws IOException, InterruptedException {
        long high = 8 * MATRIX_MIB;
        if (!completes(c, high)) {
            throw new IllegalStateException(c + " does not complete in " + high + " MiB");
        }
        return ChildHeap.bisect(c.inputMiB(), high, STEP_MIB, heap -> completes(c, heap));
    }

    private static boolean completes(Case c, long heapMiB) throws IOException, InterruptedException {
        return ChildHeap.completes(heapMiB, List.of(), PeakHeap.class, "run", c.name());
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
