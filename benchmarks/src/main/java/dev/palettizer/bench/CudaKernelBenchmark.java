package dev.palettizer.bench;

import dev.palettizer.backend.BackendException;
import dev.palettizer.backend.BackendRequest;
import dev.palettizer.backend.CentroidSums;
import dev.palettizer.backend.ClusterInput;
import dev.palettizer.backend.ValueKey;
import dev.palettizer.backend.WeightedValues;
import dev.palettizer.backend.cuda.CudaBackend;
import dev.palettizer.backend.cuda.CudaBackendProvider;
import dev.palettizer.backend.cuda.ResidentTensor;
import dev.palettizer.model.DType;
import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.model.SegmentSource;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
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
 * The CUDA kernels with the tensor already on the device (issue 5, must-show 3): the histogram and
 * assignment passes of per-tensor 4-bit over 10^9 fp16 weights (with fp16 sensitivities), and of
 * per-grouped-channel (32 output channels per LUT) 4-bit on a 14336x4096 fp16 matrix; assignment and
 * Lloyd's centroid sums of cluster_dim 4 at 8 bits on the same matrix. Each call includes its small
 * host transfers (LUT in; histograms, error sums out) but no tensor copy. The device holds the
 * clustered values and weights as fp32 (8 bytes per element with sensitivities), so the bandwidth
 * floor of one pass over 10^9 elements is ../shared/NOTES.md's fp32 figure: 2.4 ms on an H100 SXM,
 * 1.7 ms on an H200. {@code benchmarks/peers/torch_kmeans.py} times the same steps in PyTorch on the
 * same GPU; benchmarks/gpu/README.md runs both.
 *
 * <p>Where CUDA is not usable, every run stops in its setup with the driver probe's reason before
 * allocating anything, and JMH goes on with the other benchmarks.
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar CudaKernelBenchmark -f 1 -wi 3 -i 5}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {ForkArgs.HEAP, ForkArgs.GC, ForkArgs.YOUNG, ForkArgs.PRETOUCH, ForkArgs.NATIVE_ACCESS, ForkArgs.VECTOR})
public class CudaKernelBenchmark {
    /** 244,141 rows of 4096: 1,000,001,536 weights. */
    static final long[] BILLION = {244_141, 4096};
    /** A Llama-sized projection matrix. */
    static final long[] MATRIX = {14_336, 4096};
    private static final ValueKey FAST_KEY = ValueKey.fastRounded(4);

    /** The backend and one resident tensor; made (and uploaded) once per trial. */
    abstract static class Device {
        ForkJoinPool pool;
        CudaBackend cuda;
        ResidentTensor tensor;
        GroupLayout layout;
        float[] lut;
        int lutSize;

        void open(long[] shape, PalettizationSpec spec, boolean weighted) {
            pool = new ForkJoinPool(Runtime.getRuntime().availableProcessors());
            try {
                cuda = new CudaBackendProvider().create(new BackendRequest(pool, System.getProperty("palettizer.bench.cuda.device")), 0);
            } catch (BackendException e) {
                pool.close();
                throw new IllegalStateException("no usable CUDA device, skipping CudaKernelBenchmark (" + e.getMessage() + ")", e);
            }
            layout = GroupLayout.of(shape, spec).layout().orElseThrow();
            lutSize = spec.lutSize();
            lut = lut(layout, lutSize);
            long n = layout.elementCount();
            try (Arena arena = Arena.ofShared()) {
                MemorySegment values = fp16(arena, n, 42, false);
                MemorySegment sens = weighted ? fp16(arena, n, 43, true) : null;
                ClusterInput in = new ClusterInput(new SegmentSource(values, DType.F16),
                        sens == null ? null : new SegmentSource(sens, DType.F16), layout, null);
                tensor = cuda.resident(in);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            if (tensor != null) {
                tensor.close();
            }
            if (cuda != null) {
                cuda.close();
                pool.close();
            }
        }
    }

    /** n fp16 values generated in parallel: Laplace(0, 0.02) weights or uniform(0, 1) sensitivities, by block seed. */
    static MemorySegment fp16(Arena arena, long n, long seed, boolean uniform) {
        MemorySegment out = arena.allocate(2 * n, 64);
        long block = 1 << 20;
        LongStream.range(0, (n + block - 1) / block).parallel().forEach(b -> {
            SplittableRandom r = new SplittableRandom(seed * 1_000_003 + b);
            for (long i = b * block; i < Math.min(n, (b + 1) * block); i++) {
                double u = r.nextDouble();
                float v = uniform ? (float) u
                        : (float) (-WeightMatrix.SCALE * Math.signum(u - 0.5) * Math.log(1 - 2 * Math.abs(u - 0.5)));
                out.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i, Float.floatToFloat16(v));
            }
        });
        return out;
    }

    /** Per group, lutSize entries evenly spaced over the weights' bulk (ascending, as scalar assignment needs). */
    static float[] lut(GroupLayout l, int lutSize) {
        float[] lut = new float[l.groups() * lutSize * l.clusterDim()];
        for (int i = 0; i < lut.length; i++) {
            int k = i / l.clusterDim() % lutSize;
            lut[i] = (float) ((k - lutSize / 2 + 0.5) * WeightMatrix.SCALE * 4 / lutSize);
        }
        return lut;
    }

    /** Scalar 4-bit cases: histogram and assignment passes. */
    @State(Scope.Benchmark)
    public static class Scalar extends Device {
        @Param({"per-tensor-1e9", "grouped-32-14336x4096"})
        public String shape;

        @Setup(Level.Trial)
        public void setup() {
            PalettizationSpec spec = PalettizationSpec.defaults().withBits(4);
            if (shape.startsWith("grouped")) {
                open(MATRIX, spec.withGranularity(Granularity.grouped(0, 32)), true);
            } else {
                open(BILLION, spec, true);
            }
            // Issue 16, must-show 1: what one histogram call copies back, against the compacted histograms' size.
            long before = cuda.bytesDownloaded();
            WeightedValues[] h = tensor.histogram(FAST_KEY);
            long copied = cuda.bytesDownloaded() - before;
            long bins = 0;
            for (WeightedValues g : h) {
                bins += g.values().length;
            }
            System.out.printf("%n%s: one histogram call copies %,d bytes device to host; its %d groups hold %,d"
                    + " distinct values (%,d bytes at 12 per value)%n", shape, copied, h.length, bins, 12 * bins);
        }
    }

    /** cluster_dim 4 at 8 bits, per tensor: assignment and centroid sums (Lloyd). */
    @State(Scope.Benchmark)
    public static class Vector extends Device {
        @Setup(Level.Trial)
        public void setup() {
            open(MATRIX, PalettizationSpec.defaults().withBits(8).withClusterDim(4), false);
            tensor.assign(lut, lutSize);
        }
    }

    @Benchmark
    public WeightedValues[] histogram(Scalar s) {
        return s.tensor.histogram(FAST_KEY);
    }

    @Benchmark
    public ErrorStats assign(Scalar s) {
        return s.tensor.assign(s.lut, s.lutSize);
    }

    @Benchmark
    public ErrorStats vectorAssign(Vector v) {
        return v.tensor.assign(v.lut, v.lutSize);
    }

    @Benchmark
    public CentroidSums vectorCentroidSums(Vector v) {
        return v.tensor.centroidSums(v.lutSize);
    }
}
