package dev.palettizer.bench;

import com.sun.management.ThreadMXBean;
import dev.palettizer.backend.JavaDkmPasses;
import dev.palettizer.dkm.DkmWeight;
import dev.palettizer.model.DType;
import dev.palettizer.spec.DkmSpec;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Measures the working memory of one DKM training step (forward of every weight, then backward of every
 * weight in reverse order, as a training step does; 4 bits, seed 004's defaults, 3 iterations) over a
 * synthetic model with TinyLlama-1.1B's linear and embedding shapes (hidden 2048, MLP 5632, 22 layers,
 * 4 key/value heads of 64, vocabulary 32000, untied head: 1.10 billion parameters; the 1-D norms are not
 * palettized, as coremltools' DKM leaves them alone). Weights, outputs and both gradients are fp16
 * segments off-heap (4 x 2.2 GB), the caller's arrays; everything the engine holds beyond them is on
 * the Java heap, which is what this measures, two ways:
 * <ul>
 *   <li>in process (parallel collector): the heap in use after a full collection, before and after
 *       each weight's forward (state a weight keeps until its backward and across steps) and after all
 *       forwards (the whole model's state at the step's peak), and the bytes allocated by all threads
 *       during each call (an upper bound on that call's transient buffers);</li>
 *   <li>with {@code --heap-search}: the smallest {@code -Xmx} (serial collector, 8 MiB young generation,
 *       so the cap is close to the live peak) in which a child JVM completes a whole step, the first one
 *       included (it also picks the initial centroids).</li>
 * </ul>
 * Next to it: {@code n x k x 4 B x iterations}, the attention matrices a materialised implementation
 * (coremltools' DKM) keeps for its backward pass.
 *
 * <p>Usage: {@code java -Xmx2g -XX:MaxDirectMemorySize=10g -XX:+UseParallelGC -cp benchmarks.jar
 * dev.palettizer.bench.DkmMemoryTable [--layers N] [--heap-search]}; prints markdown.
 */
public final class DkmMemoryTable {
    static final int HIDDEN = 2048;
    static final int FFN = 5632;
    static final int KV = 256;
    static final int VOCAB = 32000;
    static final int BITS = 4;
    private static final int SEARCH_STEP_MIB = 16;

    record Tensor(String name, String kind, long rows, long cols) {
        long elements() {
            return rows * cols;
        }
    }

    private DkmMemoryTable() {}

    static List<Tensor> model(int layers) {
        List<Tensor> t = new ArrayList<>();
        t.add(new Tensor("embed_tokens", "embed_tokens", VOCAB, HIDDEN));
        for (int l = 0; l < layers; l++) {
            String p = "layers." + l + ".";
            t.add(new Tensor(p + "q_proj", "q_proj", HIDDEN, HIDDEN));
            t.add(new Tensor(p + "k_proj", "k_proj", KV, HIDDEN));
            t.add(new Tensor(p + "v_proj", "v_proj", KV, HIDDEN));
            t.add(new Tensor(p + "o_proj", "o_proj", HIDDEN, HIDDEN));
            t.add(new Tensor(p + "gate_proj", "gate_proj", FFN, HIDDEN));
            t.add(new Tensor(p + "up_proj", "up_proj", FFN, HIDDEN));
            t.add(new Tensor(p + "down_proj", "down_proj", HIDDEN, FFN));
        }
        t.add(new Tensor("lm_head", "lm_head", VOCAB, HIDDEN));
        return t;
    }

    /** The caller's arrays: one fp16 segment per role, sliced per tensor. */
    private static final class Arrays16 implements AutoCloseable {
        final Arena arena = Arena.ofShared();
        final List<Tensor> tensors;
        final MemorySegment[] w;
        final MemorySegment[] out;
        final MemorySegment[] g;
        final MemorySegment[] gi;

        Arrays16(List<Tensor> tensors) {
            this.tensors = tensors;
            int n = tensors.size();
            w = new MemorySegment[n];
            out = new MemorySegment[n];
            g = new MemorySegment[n];
            gi = new MemorySegment[n];
            for (int i = 0; i < n; i++) {
                Tensor t = tensors.get(i);
                long bytes = t.elements() * 2;
                w[i] = arena.allocate(bytes, 64);
                out[i] = arena.allocate(bytes, 64);
                g[i] = arena.allocate(bytes, 64);
                gi[i] = arena.allocate(bytes, 64);
                DkmInputs.weights(w[i], DType.F16, t.cols(), 100 + i);
                DkmInputs.gradients(g[i], DType.F16, 10_000 + i);
            }
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        int layers = 22;
        boolean search = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--layers" -> layers = Integer.parseInt(args[++i]);
                case "--heap-search" -> search = true;
                case "child" -> {
                    child(Integer.parseInt(args[++i]));
                    return;
                }
                default -> {
                    System.err.println("usage: DkmMemoryTable [--layers N] [--heap-search]");
                    System.exit(2);
                }
            }
        }
        measure(layers, search);
    }

    /** One whole step in a child JVM; exit status 0 when it fits the heap. */
    private static void child(int layers) {
        List<Tensor> tensors = model(layers);
        try (Arrays16 a = new Arrays16(tensors); JavaDkmPasses passes = new JavaDkmPasses(Runtime.getRuntime().availableProcessors())) {
            DkmWeight[] dkm = weights(tensors, passes);
            for (int i = 0; i < dkm.length; i++) {
                dkm[i].forward(a.w[i], DType.F16, a.out[i], DType.F16);
            }
            for (int i = dkm.length - 1; i >= 0; i--) {
                dkm[i].backward(a.g[i], DType.F16, a.gi[i], DType.F16);
            }
        }
    }

    private static DkmWeight[] weights(List<Tensor> tensors, JavaDkmPasses passes) {
        DkmWeight[] dkm = new DkmWeight[tensors.size()];
        for (int i = 0; i < dkm.length; i++) {
            Tensor t = tensors.get(i);
            dkm[i] = new DkmWeight(t.name(), new long[] {t.rows(), t.cols()}, DkmSpec.defaults(BITS), passes);
        }
        return dkm;
    }

    private static void measure(int layers, boolean search) throws IOException, InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        List<Tensor> tensors = model(layers);
        long elements = tensors.stream().mapToLong(Tensor::elements).sum();
        long weightBytes = elements * 2;
        int iterations = DkmSpec.defaults(BITS).maxIter();
        int k = DkmSpec.defaults(BITS).lutSize();
        long t0 = System.nanoTime();
        StringBuilder md = new StringBuilder();
        long base;
        long stateAtPeak;
        try (Arrays16 a = new Arrays16(tensors); JavaDkmPasses passes = new JavaDkmPasses(Runtime.getRuntime().availableProcessors())) {
            double genSeconds = (System.nanoTime() - t0) / 1e9;
            base = usedAfterGc(memory);
            DkmWeight[] dkm = weights(tensors, passes);
            long constructed = usedAfterGc(memory) - base;
            int n = dkm.length;
            // Step 1 (initial centroids), with a collection around each forward: the state each weight keeps.
            long[] kept = new long[n];
            long before = usedAfterGc(memory);
            for (int i = 0; i < n; i++) {
                dkm[i].forward(a.w[i], DType.F16, a.out[i], DType.F16);
                long after = usedAfterGc(memory);
                kept[i] = after - before;
                before = after;
            }
            stateAtPeak = usedAfterGc(memory) - base;
            for (int i = n - 1; i >= 0; i--) {
                dkm[i].backward(a.g[i], DType.F16, a.gi[i], DType.F16);
            }
            long afterStep1 = usedAfterGc(memory) - base;
            // Step 2, steady state: bytes allocated by all threads in each call.
            long[] allocForward = new long[n];
            long[] allocBackward = new long[n];
            long s0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                long b = threads.getTotalThreadAllocatedBytes();
                dkm[i].forward(a.w[i], DType.F16, a.out[i], DType.F16);
                allocForward[i] = threads.getTotalThreadAllocatedBytes() - b;
            }
            for (int i = n - 1; i >= 0; i--) {
                long b = threads.getTotalThreadAllocatedBytes();
                dkm[i].backward(a.g[i], DType.F16, a.gi[i], DType.F16);
                allocBackward[i] = threads.getTotalThreadAllocatedBytes() - b;
            }
            double stepSeconds = (System.nanoTime() - s0) / 1e9;
            String route = dkm[0].stats().route();
            for (DkmWeight d : dkm) {
                if (!d.stats().route().equals(route)) {
                    throw new IllegalStateException(d.name() + " took the " + d.stats().route() + " route, " + dkm[0].name() + " " + route);
                }
            }

            md.append(String.format(Locale.ROOT, "One DKM step (forward of every weight, then backward in reverse), %d bits (k = %d), "
                    + "%d iterations, per-tensor LUTs, %s route, Java backend on %d cores; synthetic TinyLlama-1.1B shapes "
                    + "(hidden %d, MLP %d, %d layers, k/v %d x %d, vocabulary %d): %d weights, %,d fp16 parameters = %s. "
                    + "Weights, outputs and both gradients are fp16 segments off-heap (%s in all); the engine's working "
                    + "memory is on the heap. Heap in use after a full GC: %s before any DkmWeight, +%s after constructing "
                    + "them all.%n%n", BITS, k, iterations, route, passes.threads(), HIDDEN, FFN, layers, KV, HIDDEN, VOCAB,
                    n, elements, mib(weightBytes), mib(4 * weightBytes), mib(base), mib(constructed)));
            md.append("| Tensor | Count | Shape | fp16 weight | Kept per weight | Allocated per forward | Allocated per backward "
                    + "| Ours / weight | Materialised n x k x 4 B x " + iterations + " | Materialised / weight |\n");
            md.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
            Map<String, List<Integer>> byKind = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                byKind.computeIfAbsent(tensors.get(i).kind(), x -> new ArrayList<>()).add(i);
            }
            long maxCall = 0;
            for (int i = 0; i < n; i++) {
                maxCall = Math.max(maxCall, Math.max(allocForward[i], allocBackward[i]));
            }
            for (Map.Entry<String, List<Integer>> e : byKind.entrySet()) {
                List<Integer> ids = e.getValue();
                Tensor t = tensors.get(ids.get(0));
                // Median: a full GC's figure moves by a few MiB of unrelated heap (JIT, class loading) now and then.
                long keptMedian = ids.stream().mapToLong(i -> kept[i]).sorted().skip(ids.size() / 2).findFirst().orElseThrow();
                long fwd = ids.stream().mapToLong(i -> allocForward[i]).max().orElseThrow();
                long bwd = ids.stream().mapToLong(i -> allocBackward[i]).max().orElseThrow();
                long w = t.elements() * 2;
                long materialised = t.elements() * k * 4L * iterations;
                md.append(String.format(Locale.ROOT, "| %s | %d | %d x %d | %s | %s | %s | %s | %.3fx | %s | %.0fx |%n", e.getKey(),
                        ids.size(), t.rows(), t.cols(), mib(w), mib(keptMedian), mib(fwd), mib(bwd),
                        (keptMedian + Math.max(fwd, bwd)) / (double) w, gib(materialised), materialised / (double) w));
            }
            long materialisedAll = elements * k * 4L * iterations;
            long peakEstimate = stateAtPeak + maxCall;
            md.append(String.format(Locale.ROOT, "| **whole step** | %d | | %s | %s (all weights, after all forwards) | %s "
                    + "(largest call) | | %.3fx | %s | %.0fx |%n%n", n, mib(weightBytes), mib(stateAtPeak), mib(maxCall),
                    peakEstimate / (double) weightBytes, gib(materialisedAll), materialisedAll / (double) weightBytes));
            md.append(String.format(Locale.ROOT, "Kept per weight: heap growth across its first forward, after a full GC (median over "
                    + "the weights of that kind): what it holds from its forward to its backward and across steps. Allocated: "
                    + "bytes allocated by all threads during one call of step 2 (largest over the kind), an upper bound on that "
                    + "call's transient buffers. Ours / weight: (kept + the larger call) / fp16 weight. Whole-step working memory (state of every weight between its forward and "
                    + "its backward, plus the largest call's allocations): %s = %.3fx the fp16 weights (target <= 0.25x). "
                    + "Heap growth after step 1's backward: %s. Step 2 (steady state) took %.1f s for all weights "
                    + "(System.nanoTime, informative only; the JMH numbers are DkmBenchmark's). Generating the inputs took %.0f s.%n",
                    mib(peakEstimate), peakEstimate / (double) weightBytes, mib(afterStep1), stepSeconds, genSeconds));
        }
        if (search) {
            // The live peak is at least the harness's heap plus the state after all forwards.
            long smallest = smallestHeap(layers, (base + stateAtPeak) >> 20);
            md.append(String.format(Locale.ROOT, "%nSmallest -Xmx (serial GC, -Xmn8m, %d MiB steps) in which a child JVM completes "
                    + "step 1 of the whole model (initial centroids included): %d MiB = %.3fx the fp16 weights; it includes the "
                    + "JVM's and the harness's own heap (%s in this process before any DkmWeight).%n",
                    SEARCH_STEP_MIB, smallest, (smallest << 20) / (double) weightBytes, mib(base)));
        }
        System.out.print(md);
    }

    /** Bisection from a heap known to be too small (the measured live state) upwards. */
    private static long smallestHeap(int layers, long liveMiB) throws IOException, InterruptedException {
        long low = liveMiB;
        long high = liveMiB + 128;
        while (!completes(layers, high)) {
            low = high;
            high += 256;
            if (high > 4096) {
                throw new IllegalStateException("one step does not complete in 4 GiB of heap");
            }
        }
        return ChildHeap.bisect(low, high, SEARCH_STEP_MIB, heap -> completes(layers, heap));
    }

    private static boolean completes(int layers, long heapMiB) throws IOException, InterruptedException {
        boolean ok = ChildHeap.completes(heapMiB, List.of(DkmBenchmark.DIRECT), DkmMemoryTable.class, "child",
                Integer.toString(layers));
        System.err.printf(Locale.ROOT, "DkmMemoryTable: -Xmx%dm %s%n", heapMiB, ok ? "completes" : "fails");
        return ok;
    }

    private static long usedAfterGc(MemoryMXBean memory) {
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
}
