package dev.palettizer.bench;

import dev.palettizer.backend.DkmData;
import dev.palettizer.backend.DkmLayout;
import dev.palettizer.backend.DkmPasses.ValueKeys;
import dev.palettizer.backend.JavaDkmPasses;
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
 * Where {@link DkmBenchmark}'s values-route step spends its time: the step, the forward alone, and each of the
 * four per-element passes of the step on their own (forward: count values, gather the table; backward:
 * bin the gradient by value, gather the gradient), on the same fp16 inputs and thread count. What is
 * left of the step after the four passes is the per-value table algebra.
 *
 * <p>The {@code raw*} methods size a proposed engine change, not the engine: the same four passes reading
 * the fp16 bits as the 16-bit key directly (no float round trip and exactness check per element; any
 * fp16 pattern is a valid key, non-finite ones are refused by a separate check), counts in int, on the
 * same thread count and block split (16 blocks with a private 65,536-entry table each).
 *
 * <p>Run: {@code java -jar benchmarks/target/benchmarks.jar DkmPassBenchmark -rf json -rff P.json}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {DkmBenchmark.HEAP, DkmBenchmark.DIRECT, ForkArgs.GC, ForkArgs.NATIVE_ACCESS, ForkArgs.VECTOR})
@State(Scope.Benchmark)
public class DkmPassBenchmark {
    private static final int KEYS = 65_536;
    private static final int BLOCKS = 16;

    @Param({"16777216"})
    public long size;

    @Param({"4"})
    public int bits;

    private Arena arena;
    private DkmData w;
    private DkmData out;
    private DkmData g;
    private DkmData gradIn;
    private MemorySegment wSeg;
    private MemorySegment outSeg;
    private MemorySegment gSeg;
    private MemorySegment giSeg;
    private ExecutorService pool;
    private final short[] table16 = new short[KEYS];
    private JavaDkmPasses passes;
    private DkmWeight dkm;
    private DkmLayout layout;
    private final double[] sums = new double[KEYS];
    private final float[] table = new float[KEYS];
    private final float[] a = new float[KEYS];
    private final float[] b = new float[KEYS];

    @Setup
    public void setup() {
        arena = Arena.ofShared();
        long bytes = size * 2;
        wSeg = arena.allocate(bytes, 64);
        outSeg = arena.allocate(bytes, 64);
        gSeg = arena.allocate(bytes, 64);
        giSeg = arena.allocate(bytes, 64);
        pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
        DkmInputs.weights(wSeg, DType.F16, DkmBenchmark.COLS, 11);
        DkmInputs.gradients(gSeg, DType.F16, 12);
        w = DkmData.of(wSeg, DType.F16);
        out = DkmData.of(outSeg, DType.F16);
        g = DkmData.of(gSeg, DType.F16);
        gradIn = DkmData.of(giSeg, DType.F16);
        passes = new JavaDkmPasses(Runtime.getRuntime().availableProcessors());
        dkm = new DkmWeight("bench.weight", new long[] {size / DkmBenchmark.COLS, DkmBenchmark.COLS}, DkmSpec.defaults(bits), passes);
        dkm.forward(wSeg, DType.F16, outSeg, DType.F16);
        layout = dkm.layout();
        for (int i = 0; i < KEYS; i++) {
            table[i] = i * 1e-6f;
            a[i] = 1 + i * 1e-7f;
            b[i] = i * 1e-8f;
            table16[i] = Float.floatToFloat16(table[i]);
        }
    }

    @TearDown
    public void tearDown() {
        passes.close();
        pool.shutdownNow();
        arena.close();
    }

    @Benchmark
    public long step() {
        dkm.forward(wSeg, DType.F16, outSeg, DType.F16);
        dkm.backward(gSeg, DType.F16, giSeg, DType.F16);
        return dkm.stats().step();
    }

    @Benchmark
    public long forward() {
        dkm.forward(wSeg, DType.F16, outSeg, DType.F16);
        return dkm.stats().step();
    }

    @Benchmark
    public boolean countValues() {
        return passes.countValues(w, layout, ValueKeys.F16, sums);
    }

    @Benchmark
    public void gatherByValue() {
        passes.gatherByValue(w, out, layout, ValueKeys.F16, table);
    }

    @Benchmark
    public void sumByValue() {
        passes.sumByValue(w, g, layout, ValueKeys.F16, sums);
    }

    @Benchmark
    public void gatherGradientByValue() {
        passes.gatherGradientByValue(w, g, gradIn, layout, ValueKeys.F16, a, b);
    }

    @Benchmark
    public long rawCountValues() throws InterruptedException, ExecutionException {
        int[][] h = new int[BLOCKS][KEYS];
        blocks((blk, from, to) -> {
            int[] c = h[blk];
            for (long i = from; i < to; i++) {
                c[wSeg.getAtIndex(DkmInputs.U16, i) & 0xffff]++;
            }
        });
        long total = 0;
        for (int[] c : h) {
            for (int v = 0; v < KEYS; v++) {
                sums[v] += c[v];
                total += c[v];
            }
        }
        return total;
    }

    @Benchmark
    public void rawGatherByValue() throws InterruptedException, ExecutionException {
        blocks((blk, from, to) -> {
            for (long i = from; i < to; i++) {
                outSeg.setAtIndex(DkmInputs.U16, i, table16[wSeg.getAtIndex(DkmInputs.U16, i) & 0xffff]);
            }
        });
    }

    @Benchmark
    public double rawSumByValue() throws InterruptedException, ExecutionException {
        double[][] h = new double[BLOCKS][KEYS];
        blocks((blk, from, to) -> {
            double[] s = h[blk];
            for (long i = from; i < to; i++) {
                s[wSeg.getAtIndex(DkmInputs.U16, i) & 0xffff] += Float.float16ToFloat(gSeg.getAtIndex(DkmInputs.U16, i));
            }
        });
        for (double[] s : h) {
            for (int v = 0; v < KEYS; v++) {
                sums[v] += s[v];
            }
        }
        return sums[0];
    }

    @Benchmark
    public void rawGatherGradientByValue() throws InterruptedException, ExecutionException {
        blocks((blk, from, to) -> {
            for (long i = from; i < to; i++) {
                int key = wSeg.getAtIndex(DkmInputs.U16, i) & 0xffff;
                float gi = a[key] * Float.float16ToFloat(gSeg.getAtIndex(DkmInputs.U16, i)) + b[key];
                giSeg.setAtIndex(DkmInputs.U16, i, Float.floatToFloat16(gi));
            }
        });
    }

    private interface Block {
        void run(int block, long from, long to);
    }

    private void blocks(Block body) throws InterruptedException, ExecutionException {
        List<Future<?>> done = new ArrayList<>(BLOCKS);
        for (int blk = 0; blk < BLOCKS; blk++) {
            int block = blk;
            done.add(pool.submit(() -> body.run(block, size * block / BLOCKS, size * (block + 1) / BLOCKS)));
        }
        for (Future<?> f : done) {
            f.get();
        }
    }
}
