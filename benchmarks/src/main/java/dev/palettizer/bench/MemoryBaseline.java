package dev.palettizer.bench;

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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The allocation yardstick for the memory claim: under {@code -prof gc}, copying the matrix
 * allocates exactly one matrix (64 MiB) per operation. The claim "peak memory at most 2x the
 * matrix" holds when an end-to-end benchmark's {@code gc.alloc.rate.norm} is at most this one's:
 * everything allocated per call bounds what can be live beside the input at its peak.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgs = {ForkArgs.HEAP, ForkArgs.GC, ForkArgs.YOUNG, ForkArgs.PRETOUCH, ForkArgs.NATIVE_ACCESS, ForkArgs.VECTOR})
@State(Scope.Benchmark)
public class MemoryBaseline {
    private float[] matrix;

    @Setup
    public void setup() {
        matrix = WeightMatrix.weights(WeightMatrix.ROWS * WeightMatrix.COLS);
    }

    @Benchmark
    public float[] copyMatrix() {
        return matrix.clone();
    }
}
