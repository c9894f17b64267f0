package dev.palettizer.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.JavaBackend;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Issue 17 item 8: a large tensor moves the progress while it runs, and its parts add up to its size. */
class TensorProgressTest {
    private static ForkJoinPool pool;
    private static JavaBackend backend;

    @BeforeAll
    static void open() {
        pool = new ForkJoinPool(2);
        backend = new JavaBackend(pool);
    }

    @AfterAll
    static void close() {
        backend.close();
        pool.close();
    }

    private record Call(String kind, String tensor, long elements) {}

    /** Records every call in order. */
    private static final class Recorder implements Progress {
        final List<Call> calls = new ArrayList<>();

        @Override
        public synchronized void start(long totalElements) {
            calls.add(new Call("start", "", totalElements));
        }

        @Override
        public synchronized void advance(String tensor, long elements) {
            calls.add(new Call("advance", tensor, elements));
        }

        @Override
        public synchronized void done(String tensor, long elements) {
            calls.add(new Call("done", tensor, elements));
        }

        List<Call> of(String tensor) {
            return calls.stream().filter(c -> c.tensor().equals(tensor)).toList();
        }
    }

    private static float[] values(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (0.1 * (r.nextDouble() - 0.5));
        }
        return v;
    }

    @Test
    void largeTensorAdvancesBeforeItIsDoneAndItsPartsAddUp() {
        // 40 channels of 65,536 values: per-channel histograms come in batches of 16 channels, so three batches.
        int rows = 40;
        int cols = 65_536;
        PalettizationSpec perChannel = PalettizationSpec.defaults().withGranularity(Granularity.perChannel(0));
        TensorJob big = new TensorJob(TensorInput.of("big", values(rows * cols, 1), rows, cols), perChannel,
                new ClusterMode(true, 4));
        TensorJob small = new TensorJob(TensorInput.of("small", values(4096, 2), 64, 64), PalettizationSpec.defaults(),
                new ClusterMode(true, 4));
        Recorder recorder = new Recorder();
        List<Outcome> outcomes = new ModelPalettizer(backend, EngineOptions.defaults(), pool)
                .palettizeAll(List.of(big, small), recorder);

        assertTrue(outcomes.stream().allMatch(o -> o instanceof Outcome.Palettized), outcomes.toString());
        assertEquals(new Call("start", "", (long) rows * cols + 4096), recorder.calls.getFirst());
        List<Call> bigCalls = recorder.of("big");
        assertEquals("done", bigCalls.getLast().kind(), "the tensor ends with done: " + bigCalls);
        long advances = bigCalls.stream().filter(c -> c.kind().equals("advance")).count();
        // One step per histogram batch (3), the seeded share, and the assignment pass.
        assertTrue(advances >= 4, "expected progress within the tensor, got " + bigCalls);
        assertTrue(bigCalls.stream().allMatch(c -> c.elements() >= 0), bigCalls.toString());
        assertEquals((long) rows * cols, bigCalls.stream().mapToLong(Call::elements).sum(), bigCalls.toString());
        assertEquals(4096, recorder.of("small").stream().mapToLong(Call::elements).sum());
    }

    @Test
    void fractionsOnlyMoveForwardAndFinishReportsTheRest() {
        Recorder recorder = new Recorder();
        TensorProgress p = new TensorProgress(recorder, "w", 1000);
        p.reach(0.5);
        p.reach(0.25);
        p.reach(0.7);
        p.finish();
        assertEquals(List.of(new Call("advance", "w", 500), new Call("advance", "w", 200), new Call("done", "w", 300)),
                recorder.calls);
    }
}
