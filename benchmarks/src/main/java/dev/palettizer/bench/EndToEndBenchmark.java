package dev.palettizer.bench;

import dev.palettizer.api.Palettizer;
import dev.palettizer.engine.EngineOptions;
import dev.palettizer.engine.TensorInput;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Whole-tensor palettization through the public API, one call per measurement (single shot:
 * one call of the per-channel case takes seconds). Workers = all cores. The suite runs these with
 * {@code -prof gc}; compare their {@code gc.alloc.rate.norm} with {@link MemoryBaseline}.
 *
 * <p>Inputs: the 4096x4096 matrix of {@link WeightMatrix}; the vector case (k-means++ and Lloyd,
 * no fast mode) uses a 1024x1024 matrix, the first 1,048,576 values of the same stream, because
 * its per-vector distance work is 16x that of the scalar path.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 7)
@Fork(value = 1, jvmArgs = {ForkArgs.HEAP, ForkArgs.GC, ForkArgs.YOUNG, ForkArgs.PRETOUCH, ForkArgs.NATIVE_ACCESS, ForkArgs.VECTOR})
@State(Scope.Benchmark)
public class EndToEndBenchmark {
    static final int VECTOR_SIDE = 1024;

    static final PalettizationSpec PER_TENSOR = PalettizationSpec.defaults();
    static final PalettizationSpec GROUPED = PER_TENSOR.withGranularity(Granularity.grouped(0, 32));
    static final PalettizationSpec PER_CHANNEL = PER_TENSOR.withGranularity(Granularity.perChannel(0));
    private static final PalettizationSpec VECTOR = PER_TENSOR.withClusterDim(4);

    private TensorInput matrix;
    private TensorInput weighted;
    private TensorInput small;
    private Palettizer fast;
    private Palettizer exact;

    @Setup
    public void setup() {
        float[] w = WeightMatrix.weights(WeightMatrix.ROWS * WeightMatrix.COLS);
        float[] s = WeightMatrix.sensitivities(w.length);
        matrix = TensorInput.of("w", w, WeightMatrix.ROWS, WeightMatrix.COLS);
        weighted = matrix.withSensitivities(new FloatArraySource(s));
        small = TensorInput.of("w_small", WeightMatrix.weights(VECTOR_SIDE * VECTOR_SIDE), VECTOR_SIDE, VECTOR_SIDE);
        int cores = Runtime.getRuntime().availableProcessors();
        fast = Palettizer.builder().workers(cores).build();
        exact = Palettizer.builder().workers(cores).options(EngineOptions.defaults().withFastMode(false)).build();
    }

    @TearDown
    public void tearDown() {
        fast.close();
        exact.close();
    }

    /** Per-tensor 4-bit, default (fast) mode. Target: at most 0.3 s. */
    @Benchmark
    public PalettizedTensor perTensor4Bit() {
        return fast.palettize(matrix, PER_TENSOR);
    }

    /** One 4-bit LUT per 32 output channels (128 LUTs). */
    @Benchmark
    public PalettizedTensor groupedChannel32Axis0() {
        return fast.palettize(matrix, GROUPED);
    }

    /** One 4-bit LUT per output channel (4096 LUTs), sensitivity-weighted. Target: at most 3 s. */
    @Benchmark
    public PalettizedTensor perChannelWeighted4Bit() {
        return fast.palettize(weighted, PER_CHANNEL);
    }

    /** 4-bit LUT of 4-element vectors on the 1024x1024 matrix; fast mode does not apply to vectors. */
    @Benchmark
    public PalettizedTensor vectorDim4NoFast1024() {
        return exact.palettize(small, VECTOR);
    }
}
