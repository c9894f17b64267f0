package dev.palettizer.bench;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.BackendRegistry;
import dev.palettizer.dkm.DkmWeight;
import dev.palettizer.model.DType;
import dev.palettizer.spec.DkmSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
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
 * One training-time palettization (DKM) step of one weight on {@code backend} (java: all cores): forward
 * (soft-palettized weight out) and backward (gradient of the weight from the gradient of the output),
 * per-tensor LUT, {@code bits} bits, seed 004's defaults (3 k-means iterations). The weight is
 * {@code size} elements in rows of 4096, off-heap; output and gradients live next to it in the
 * weight's type.
 *
 * <p>{@code route=values}: fp16 weights, the uniquified route (per-value tables). {@code route=recompute}:
 * fp32 weights that are not fp16 numbers, so every pass recomputes the attention per element; run it at
 * 16 Mi only (at 1 Gi it takes minutes per step).
 *
 * <p>{@link #onePass} is the floor measured in the same run: one pass that reads the weight's bytes and
 * writes the output's once, converting through float as every DKM pass does, on the same thread count.
 *
 * <p>The arrays are off-heap (4 x 2 GiB at 1 Gi fp16), so the fork has a small heap and a direct-memory
 * cap of 10 GiB instead: a step that needed a large heap would fail here rather than hide.
 *
 * <p>{@code backend=cuda} (or opencl) runs the same step through that backend's DKM kernels, for a GPU
 * machine (benchmarks/gpu/check's dkm phase); it fails in setup with the probe's reason where the backend
 * is not usable.
 *
 * <p>Run (from the worktree root, after {@code mvn -B -o -q -pl benchmarks -am package -DskipTests}):
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar DkmBenchmark -p size=16777216 -p route=values,recompute -wi 5 -i 10 -rf json -rff A.json
 * java -jar benchmarks/target/benchmarks.jar DkmBenchmark -p size=1073741824 -p route=values -wi 1 -i 4 -rf json -rff B.json
 * </pre>
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5)
@Measurement(iterations = 10)
@Fork(value = 1, jvmArgs = {DkmBenchmark.HEAP, DkmBenchmark.DIRECT, ForkArgs.GC, ForkArgs.NATIVE_ACCESS, ForkArgs.VECTOR})
@State(Scope.Benchmark)
public class DkmBenchmark {
    /** The engine's tables and per-pass buffers are a few MiB; 512 MiB leaves the collector room. */
    static final String HEAP = "-Xmx512m";
    /** Segments count against the direct-memory limit (default: the heap size). */
    static final String DIRECT = "-XX:MaxDirectMemorySize=10g";
    static final long COLS = 4096;

    @Param({"16777216", "1073741824"})
    public long size;

    @Param({"values"})
    public String route;

    @Param({"4"})
    public int bits;

    @Param({"java"})
    public String backend;

    private Arena arena;
    private DType type;
    private MemorySegment w;
    private MemorySegment out;
    private MemorySegment g;
    private MemorySegment gradIn;
    private ForkJoinPool backendPool;
    private Backend passesBackend;
    private DkmWeight dkm;
    private ExecutorService pool;
    private int threads;

    @Setup
    public void setup() {
        type = switch (route) {
            case "values" -> DType.F16;
            case "recompute" -> DType.F32;
            default -> throw new IllegalArgumentException("route must be values or recompute, got " + route);
        };
        if (size % COLS != 0) {
            throw new IllegalArgumentException("size must be a multiple of " + COLS + ", got " + size);
        }
        threads = Runtime.getRuntime().availableProcessors();
        arena = Arena.ofShared();
        long bytes = size * type.byteSize();
        w = arena.allocate(bytes, 64);
        out = arena.allocate(bytes, 64);
        g = arena.allocate(bytes, 64);
        gradIn = arena.allocate(bytes, 64);
        DkmInputs.weights(w, type, COLS, 11);
        DkmInputs.gradients(g, type, 12);
        backendPool = new ForkJoinPool(threads);
        BackendRegistry registry = BackendRegistry.discover();
        passesBackend = registry.create(registry.choose(backend, null), backendPool);
        pool = Executors.newFixedThreadPool(threads);
        dkm = new DkmWeight("bench.weight", new long[] {size / COLS, COLS}, DkmSpec.defaults(bits), passesBackend.dkmPasses());
        // The first step also picks the initial centroids (k-means++): measured steps are steady-state ones.
        step();
        String taken = dkm.stats().route();
        if (!taken.equals(route)) {
            throw new IllegalStateException("asked for the " + route + " route but the engine took " + taken);
        }
    }

    @TearDown
    public void tearDown() {
        passesBackend.close();
        backendPool.close();
        pool.shutdownNow();
        arena.close();
    }

    @Benchmark
    public long step() {
        dkm.forward(w, type, out, type);
        dkm.backward(g, type, gradIn, type);
        return dkm.stats().step();
    }

    @Benchmark
    public void onePass() throws InterruptedException, ExecutionException {
        int blocks = 64;
        List<Future<?>> done = new ArrayList<>(blocks);
        for (int b = 0; b < blocks; b++) {
            long from = size * b / blocks;
            long to = size * (b + 1) / blocks;
            done.add(pool.submit(type == DType.F16 ? () -> copy16(from, to) : () -> copy32(from, to)));
        }
        for (Future<?> f : done) {
            f.get();
        }
    }

    private void copy16(long from, long to) {
        for (long i = from; i < to; i++) {
            out.setAtIndex(DkmInputs.U16, i, Float.floatToFloat16(Float.float16ToFloat(w.getAtIndex(DkmInputs.U16, i))));
        }
    }

    private void copy32(long from, long to) {
        for (long i = from; i < to; i++) {
            out.setAtIndex(DkmInputs.F32, i, w.getAtIndex(DkmInputs.F32, i));
        }
    }
}
