package dev.palettizer.bench;

import java.util.SplittableRandom;
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
 * The yardstick the gate divides every score by: one pass over a 64 MiB float array, which no
 * change to the library can speed up or slow down. Dividing by it cancels most of the difference
 * between machines, and between a quiet and a busy shared box, out of the stored ratios.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {ForkArgs.HEAP, ForkArgs.GC, ForkArgs.YOUNG, ForkArgs.PRETOUCH, ForkArgs.NATIVE_ACCESS, ForkArgs.VECTOR})
@State(Scope.Benchmark)
public class ReferenceBenchmark {
    /** Name the gate looks for in a results file. */
    static final String NAME = "ReferenceBenchmark.sum64MiB";

    private float[] data;

    @Setup
    public void setup() {
        SplittableRandom random = new SplittableRandom(1);
        data = new float[16 << 20];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) random.nextDouble();
        }
    }

    @Benchmark
    public float sum64MiB() {
        return sum(data);
    }

    /**
     * Sum with eight independent accumulators: the JIT does not vectorise an ordered float
     * reduction, and one accumulator would measure add latency rather than memory bandwidth.
     */
    static float sum(float[] a) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int i = 0;
        for (; i + 8 <= a.length; i += 8) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
            s4 += a[i + 4];
            s5 += a[i + 5];
            s6 += a[i + 6];
            s7 += a[i + 7];
        }
        for (; i < a.length; i++) {
            s0 += a[i];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }
}
