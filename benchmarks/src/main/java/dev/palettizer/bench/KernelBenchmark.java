package dev.palettizer.bench;

import dev.palettizer.backend.CentroidSums;
import dev.palettizer.backend.ClusterInput;
import dev.palettizer.backend.JavaBackend;
import dev.palettizer.backend.ValueKey;
import dev.palettizer.backend.WeightedValues;
import dev.palettizer.kmeans.OptimalKMeans1D;
import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.spec.PalettizationSpec;
import java.util.concurrent.ForkJoinPool;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The data-parallel steps of one per-tensor palettization on the Java backend (all cores), plus
 * the host-side optimal 1-D k-means they feed. {@code size} elements are the first values of the
 * {@link WeightMatrix} stream laid out as rows of 4096; 16,777,216 is the full matrix.
 * {@link #onePassBaseline} is the floor: one core reading the input once.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {ForkArgs.HEAP, ForkArgs.GC, ForkArgs.YOUNG, ForkArgs.PRETOUCH, ForkArgs.NATIVE_ACCESS, ForkArgs.VECTOR})
@State(Scope.Benchmark)
public class KernelBenchmark {
    /** The engine's default fast-mode key (fp16, then 4 decimals). */
    private static final ValueKey FAST_KEY = ValueKey.fastRounded(4);

    @Param({"1048576", "16777216"})
    public int size;

    @Param({"4"})
    public int bits;

    private ForkJoinPool pool;
    private JavaBackend backend;
    private float[] weights;
    private GroupLayout layout;
    private ClusterInput input;
    private WeightedValues histogram;
    private float[] lut;
    private int lutSize;
    private byte[] indices;
    private float[] reconstructed;

    @Setup
    public void setup() {
        pool = new ForkJoinPool(Runtime.getRuntime().availableProcessors());
        backend = new JavaBackend(pool);
        weights = WeightMatrix.weights(size);
        long[] shape = {size / WeightMatrix.COLS, WeightMatrix.COLS};
        layout = GroupLayout.of(shape, PalettizationSpec.defaults().withBits(bits)).layout().orElseThrow();
        input = new ClusterInput(new FloatArraySource(weights), null, layout, null);
        lutSize = 1 << bits;
        // The LUT the engine would use: optimal centroids of the fast-mode histogram.
        histogram = backend.histogram(input, FAST_KEY, 0, 1)[0];
        lut = toFloats(new OptimalKMeans1D(histogram.values(), histogram.weights()).centroids(lutSize));
        indices = new byte[size];
        backend.assign(input, lut, lutSize, indices);
        reconstructed = new float[size];
    }

    @TearDown
    public void tearDown() {
        backend.close();
        pool.close();
    }

    private static float[] toFloats(double[] centroids) {
        float[] out = new float[centroids.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) centroids[i];
        }
        return out;
    }

    @Benchmark
    public float onePassBaseline() {
        return ReferenceBenchmark.sum(weights);
    }

    @Benchmark
    public WeightedValues[] histogram() {
        return backend.histogram(input, FAST_KEY, 0, 1);
    }

    @Benchmark
    public double[] optimalKMeans1D() {
        return new OptimalKMeans1D(histogram.values(), histogram.weights()).centroids(lutSize);
    }

    @Benchmark
    public ErrorStats assign() {
        return backend.assign(input, lut, lutSize, indices);
    }

    @Benchmark
    public CentroidSums centroidSums() {
        return backend.centroidSums(input, indices, lutSize);
    }

    @Benchmark
    public byte[] pack() {
        return backend.pack(indices, size, bits);
    }

    /** Into one buffer reused across calls, as a caller rebuilding many tensors would: the decode, not a fresh 64 MiB array. */
    @Benchmark
    public float[] reconstruct() {
        backend.reconstruct(layout, lut, lutSize, indices, null, reconstructed);
        return reconstructed;
    }
}
