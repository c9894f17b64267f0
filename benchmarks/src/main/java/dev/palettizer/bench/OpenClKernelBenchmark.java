package dev.palettizer.bench;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.BackendException;
import dev.palettizer.backend.BackendRequest;
import dev.palettizer.backend.CentroidSums;
import dev.palettizer.backend.ClusterInput;
import dev.palettizer.backend.JavaBackend;
import dev.palettizer.backend.ValueKey;
import dev.palettizer.backend.WeightedValues;
import dev.palettizer.backend.opencl.OpenClBackendProvider;
import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.FloatArraySource;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.spec.Granularity;
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
 * Each backend step on the OpenCL backend next to the Java backend, on the same inputs
 * ({@link WeightMatrix} rows of 4096, 4-bit, sensitivity-weighted): informative, not gated.
 * {@code layout} per-tensor takes the dense histogram; per-channel (one LUT per output channel,
 * 4096 values each) the sorted one; grouped-32 (32 output channels per LUT, 131,072 values each) the
 * dense one per group, compacted on the device before it is copied back. Times include the host-device transfers every call makes.
 *
 * <p>Where no OpenCL device is usable, the {@code backend=opencl} runs stop in their setup with the
 * reason and JMH goes on with the others; {@code -p backend=java} leaves them out.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar OpenClKernelBenchmark -f 1 -wi 2 -i 3}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgs = {ForkArgs.HEAP, ForkArgs.GC, ForkArgs.YOUNG, ForkArgs.PRETOUCH, ForkArgs.NATIVE_ACCESS, ForkArgs.VECTOR})
@State(Scope.Benchmark)
public class OpenClKernelBenchmark {
    private static final ValueKey FAST_KEY = ValueKey.fastRounded(4);
    private static final int BITS = 4;
    private static final int LUT_SIZE = 1 << BITS;

    @Param({"java", "opencl"})
    public String backend;

    @Param({"1048576", "4194304"})
    public int size;

    @Param({"per-tensor", "per-channel", "grouped-32"})
    public String layout;

    private ForkJoinPool pool;
    private Backend steps;
    private GroupLayout groups;
    private ClusterInput input;
    private float[] lut;
    private byte[] indices;
    private byte[] packed;
    /** Reused by every reconstruct call, as in {@link KernelBenchmark#reconstruct}. */
    private float[] reconstructed;

    @Setup
    public void setup() {
        pool = new ForkJoinPool(Runtime.getRuntime().availableProcessors());
        steps = create();
        long[] shape = {size / WeightMatrix.COLS, WeightMatrix.COLS};
        PalettizationSpec spec = PalettizationSpec.defaults().withBits(BITS);
        if (layout.equals("per-channel")) {
            spec = spec.withGranularity(Granularity.perChannel(0));
        } else if (layout.equals("grouped-32")) {
            spec = spec.withGranularity(Granularity.grouped(0, 32));
        }
        groups = GroupLayout.of(shape, spec).layout().orElseThrow();
        input = new ClusterInput(new FloatArraySource(WeightMatrix.weights(size)),
                new FloatArraySource(WeightMatrix.sensitivities(size)), groups, null);
        // Any sorted LUT serves the timing: evenly spaced (ascending) over the Laplace weights' bulk.
        lut = new float[groups.groups() * LUT_SIZE];
        for (int i = 0; i < lut.length; i++) {
            lut[i] = (float) ((i % LUT_SIZE - LUT_SIZE / 2 + 0.5) * WeightMatrix.SCALE / 2);
        }
        indices = new byte[size];
        steps.assign(input, lut, LUT_SIZE, indices);
        packed = steps.pack(indices, size, BITS);
        reconstructed = new float[size];
    }

    private Backend create() {
        if (backend.equals("java")) {
            return new JavaBackend(pool);
        }
        try {
            return new OpenClBackendProvider().create(new BackendRequest(pool, null));
        } catch (BackendException e) {
            pool.close();
            throw new IllegalStateException("no usable OpenCL device, skipping backend=opencl (" + e.getMessage()
                    + "); pass -p backend=java to leave these runs out", e);
        }
    }

    @TearDown
    public void tearDown() {
        steps.close();
        pool.close();
    }

    @Benchmark
    public WeightedValues[] histogram() {
        return steps.histogram(input, FAST_KEY, 0, input.layout().groups());
    }

    @Benchmark
    public ErrorStats assign() {
        return steps.assign(input, lut, LUT_SIZE, indices);
    }

    @Benchmark
    public CentroidSums centroidSums() {
        return steps.centroidSums(input, indices, LUT_SIZE);
    }

    @Benchmark
    public byte[] pack() {
        return steps.pack(indices, size, BITS);
    }

    @Benchmark
    public byte[] unpack() {
        return steps.unpack(packed, size, BITS);
    }

    @Benchmark
    public float[] reconstruct() {
        steps.reconstruct(groups, lut, LUT_SIZE, indices, null, reconstructed);
        return reconstructed;
    }
}
