package dev.palettizer.bench;

import dev.palettizer.backend.DistinctValuesBuilder;
import dev.palettizer.backend.ValueKey;
import dev.palettizer.backend.WeightedValues;
import dev.palettizer.config.ModuleKMeansPalettizerConfig;
import dev.palettizer.kmeans.OptimalKMeans1D;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The optimal DP alone, on one thread, as {@link EndToEndBenchmark#perChannelWeighted4Bit} runs it 4096
 * times: the first {@value #ROWS} rows of the benchmark matrix, each keyed as fast mode keys it (fp16,
 * 4 decimals: about 1,160 distinct values) with its summed sensitivities, clustered into 16. Unlike the
 * end-to-end case it does not depend on how busy the other core is, so it shows a change to the DP on a
 * shared machine. {@code simd} is the library's {@code palettizer.simd} for the fork: {@code off} is the scalar
 * kernel, {@code on} the Vector API kernel (same bits), so their ratio is measured in one run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {ForkArgs.HEAP, ForkArgs.GC, ForkArgs.YOUNG, ForkArgs.PRETOUCH, ForkArgs.NATIVE_ACCESS, ForkArgs.VECTOR})
@State(Scope.Benchmark)
public class OptimalKMeans1DBenchmark {
    static final int ROWS = 64;
    private static final int LUT_SIZE = 16;

    @Param({"off", "on"})
    public String simd;

    private WeightedValues[] rows;

    @Setup
    public void setup() {
        // Each parameter value runs in its own fork, and the library reads the property at its first DP, after this.
        System.setProperty("palettizer.simd", simd);
        int cols = WeightMatrix.COLS;
        float[] w = WeightMatrix.weights(ROWS * cols);
        float[] s = WeightMatrix.sensitivities(w.length);
        ValueKey key = ValueKey.fastRounded(ModuleKMeansPalettizerConfig.DEFAULT_ROUNDING_PRECISION);
        rows = new WeightedValues[ROWS];
        for (int r = 0; r < ROWS; r++) {
            // Key bits in the high half and weight bits in the low half, as the Java backend sorts them.
            long[] entries = new long[cols];
            for (int i = 0; i < cols; i++) {
                int bits = Float.floatToRawIntBits(key.keyOf(w[r * cols + i]) + 0f);
                int sortable = bits ^ ((bits >> 31) & 0x7fffffff);
                entries[i] = ((long) sortable << 32) | (Float.floatToRawIntBits(s[r * cols + i]) & 0xffffffffL);
            }
            Arrays.sort(entries);
            DistinctValuesBuilder b = new DistinctValuesBuilder(cols);
            for (long e : entries) {
                int sortable = (int) (e >> 32);
                b.add(Float.intBitsToFloat(sortable ^ ((sortable >> 31) & 0x7fffffff)), Float.intBitsToFloat((int) e));
            }
            rows[r] = b.build();
        }
    }

    /** All {@value #ROWS} rows, one DP each. */
    @Benchmark
    public void perChannelRows(Blackhole bh) {
        for (WeightedValues h : rows) {
            bh.consume(new OptimalKMeans1D(h.values(), h.weights()).centroids(LUT_SIZE));
        }
    }
}
