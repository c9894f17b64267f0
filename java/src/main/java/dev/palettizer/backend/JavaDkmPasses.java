package dev.palettizer.backend;

import dev.palettizer.model.DType;
import dev.palettizer.model.Floats;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Pure-Java {@link DkmPasses}: the reference the kernels are tested against.
 *
 * <p>Work is cut into slices of {@link #SLICE_POINTS} points in point order; consecutive slices form
 * blocks whose number depends only on the point count and the reduction width (at most
 * {@link #MAX_BLOCKS}, and at most about 2^20 partial doubles in all), never on the thread count.
 * Each block sums its points in order into its own partial array, in double; the partials are then added
 * in block order. The result is therefore the same bits for any number of threads. {@link #sumByValue} adds
 * integers instead ({@link FixedPointSums}), so its bits depend on no order at all: the kernels add with atomics.
 *
 * <p>The per-value passes over F16/BF16 segments whose type is the key type read the stored 16-bit patterns as
 * the keys (bulk copies, counts in int per block): the same keys as {@link ValueKeys#key} of the decoded
 * floats, without the float round trip and exactness check per element.
 *
 * <p>Thread-safe: calls may come from several threads at once (each block has its own buffers).
 * Close it to stop its worker threads. Segments of a confined arena can only be touched by their owner,
 * so a pass over one runs all its blocks on the calling thread (same bits, one core): use a shared or
 * global arena for parallel passes.
 */
public final class JavaDkmPasses implements DkmPasses, AutoCloseable {
    /** Points per slice. */
    public static final int SLICE_POINTS = 4096;
    /** Upper bound on blocks per pass. */
    public static final int MAX_BLOCKS = 64;
    private static final int PARTIAL_BUDGET = 1 << 20;

    private final int threads;
    private final ExecutorService pool;
    /** Block buffers kept between calls, so a training step allocates nothing once warm. */
    private final ConcurrentLinkedQueue<Worker> spare = new ConcurrentLinkedQueue<>();

    public JavaDkmPasses(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "dkm-pass");
            t.setDaemon(true);
            return t;
        });
    }

    public int threads() {
        return threads;
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    /** One block's buffers. */
    private static final class Worker {
        final float[] x;
        final float[] g;
        final float[] out;
        final int[] idx;
        final DkmPointMath.Scratch sc;
        final double[] gv;
        /** Grows to the widest reduction asked for, so passes of different widths reuse one worker. */
        double[] partial;
        /** Keys of a run of 16-bit data (dim 1). */
        final short[] bits = new short[SLICE_POINTS];
        /** Output bits of a run. */
        final short[] outBits = new short[SLICE_POINTS];
        /** Counts of the bits route, folded into partial before they could overflow; allocated on first use. */
        int[] counts;
        long counted;
        /** Per-key integer counts and fixed-point sums, and largest-|g| bits, of the order-free sums; allocated on first use. */
        long[] keyLongs;
        int[] keyMax;

        long[] keyLongs(int reduction) {
            if (keyLongs == null || keyLongs.length < reduction) {
                keyLongs = new long[reduction];
            } else {
                Arrays.fill(keyLongs, 0, reduction, 0);
            }
            return keyLongs;
        }

        int[] keyMax(int reduction) {
            if (keyMax == null || keyMax.length < reduction) {
                keyMax = new int[reduction];
            } else {
                Arrays.fill(keyMax, 0, reduction, 0);
            }
            return keyMax;
        }

        int[] counts(int reduction) {
            if (counts == null || counts.length < reduction) {
                counts = new int[reduction];
            }
            return counts;
        }

        /** Adds the int counts into partial and clears them. */
        void foldCounts() {
            if (counted == 0) {
                return;
            }
            for (int i = 0; i < counts.length; i++) {
                partial[i] += counts[i];
                counts[i] = 0;
            }
            counted = 0;
        }

        boolean fits(int k, int dim) {
            return sc.attentionRow().length >= k && gv.length >= dim;
        }

        /** Zeroes the first {@code reduction} partials, growing the array when it is shorter. */
        void clearPartial(int reduction) {
            if (partial.length < reduction) {
                partial = new double[reduction];
            } else {
                Arrays.fill(partial, 0, reduction, 0);
            }
        }

        Worker(int k, int dim, int reduction) {
            x = new float[SLICE_POINTS * dim];
            g = new float[SLICE_POINTS * dim];
            out = new float[SLICE_POINTS * dim];
            idx = new int[SLICE_POINTS * dim];
            sc = new DkmPointMath.Scratch(k, dim);
            gv = new double[dim];
            partial = new double[reduction];
        }
    }

    /** A run of {@code count} points of one unit (one partition), loaded point-major into the worker. */
    private interface RunBody {
        void run(Worker wk, int partition, long firstElement, int count);
    }

    private void walk(DkmLayout l, int k, int reduction, double[] result, DkmData load, DkmData loadG, boolean writeConfined,
                      AtomicBoolean stop, RunBody body) {
        walk(l, k, reduction, result, load, false, loadG, writeConfined, stop, body, null, null);
    }

    private void walk(DkmLayout l, int k, int reduction, double[] result, DkmData load, boolean loadBits, DkmData loadG,
                      boolean writeConfined, AtomicBoolean stop, RunBody body) {
        walk(l, k, reduction, result, load, loadBits, loadG, writeConfined, stop, body, null, null);
    }

    /** With {@code loadBits} (dim 1, 16-bit load), load's patterns go to {@code wk.bits} instead of {@code wk.x}. */
    /** {@code start} and {@code fold}, when given, run at the start and end of each block with its worker (for order-free merges). */
    private void walk(DkmLayout l, int k, int reduction, double[] result, DkmData load, boolean loadBits, DkmData loadG,
                      boolean writeConfined, AtomicBoolean stop, RunBody body, Consumer<Worker> start, Consumer<Worker> fold) {
        long points = l.points();
        long slices = (points + SLICE_POINTS - 1) / SLICE_POINTS;
        int blocks = blocks(points, reduction);
        Worker[] workers = new Worker[blocks];
        List<Runnable> tasks = new ArrayList<>(blocks);
        for (int b = 0; b < blocks; b++) {
            int block = b;
            tasks.add(() -> {
                Worker wk = borrow(k, l.dim(), reduction);
                workers[block] = wk;
                if (start != null) {
                    start.accept(wk);
                }
                long s0 = slices * block / blocks;
                long s1 = slices * (block + 1) / blocks;
                for (long s = s0; s < s1 && (stop == null || !stop.get()); s++) {
                    long q = s * SLICE_POINTS;
                    long qEnd = Math.min(points, q + SLICE_POINTS);
                    while (q < qEnd) {
                        long u = q / l.inner();
                        long r = q - u * l.inner();
                        int len = (int) Math.min(qEnd - q, l.inner() - r);
                        long e0 = u * l.dim() * l.inner() + r;
                        for (int d = 0; d < l.dim(); d++) {
                            if (loadBits) {
                                load.readBits(e0, len, wk.bits);
                            } else if (load != null) {
                                load.read(e0 + d * l.inner(), len, wk.x, d, l.dim());
                            }
                            if (loadG != null) {
                                loadG.read(e0 + d * l.inner(), len, wk.g, d, l.dim());
                            }
                        }
                        body.run(wk, l.partitionOfUnit(u), e0, len);
                        q += len;
                    }
                }
                wk.foldCounts();
                if (fold != null) {
                    fold.accept(wk);
                }
            });
        }
        boolean confined = confined(load) || confined(loadG) || writeConfined;
        run(tasks, confined);
        if (result != null) {
            Arrays.fill(result, 0, reduction, 0);
            for (Worker wk : workers) {
                for (int i = 0; i < reduction; i++) {
                    result[i] += wk.partial[i];
                }
            }
        }
        spare.addAll(Arrays.asList(workers));
    }

    /**
     * Blocks of a pass over {@code points} points reducing into {@code reduction} doubles (0: none); block b
     * covers slices {@code [slices*b/blocks, slices*(b+1)/blocks)}.
     */
    public static int blocks(long points, int reduction) {
        long slices = (points + SLICE_POINTS - 1) / SLICE_POINTS;
        return (int) Math.max(1, Math.min(Math.min(slices, MAX_BLOCKS), reduction == 0 ? MAX_BLOCKS : PARTIAL_BUDGET / reduction));
    }

    private Worker borrow(int k, int dim, int reduction) {
        // The smallest spare that fits: a narrow pass (up to MAX_BLOCKS workers) leaves the wide partials of
        // the 65,536-wide passes alone, so only as many workers grow wide as wide passes use at once.
        // Another thread may take the chosen one first: choose again rather than grow a narrow one.
        for (Worker best = smallestFitting(k, dim, reduction); best != null; best = smallestFitting(k, dim, reduction)) {
            if (spare.remove(best)) {
                best.clearPartial(reduction);
                return best;
            }
        }
        Worker wk = spare.poll();
        if (wk == null) {
            return new Worker(k, dim, reduction);
        }
        if (!wk.fits(k, dim)) {
            // Replaced by one that fits both uses, so alternating passes stop reallocating after one round.
            return new Worker(Math.max(k, wk.sc.attentionRow().length), Math.max(dim, wk.gv.length), Math.max(reduction, wk.partial.length));
        }
        wk.clearPartial(reduction);
        return wk;
    }

    private Worker smallestFitting(int k, int dim, int reduction) {
        Worker best = null;
        for (Worker wk : spare) {
            if (wk.fits(k, dim) && wk.partial.length >= reduction && (best == null || wk.partial.length < best.partial.length)) {
                best = wk;
            }
        }
        return best;
    }

    private static boolean confined(DkmData data) {
        return data != null && data.threadConfined();
    }

    private void run(List<Runnable> tasks, boolean onCaller) {
        if (pool == null || tasks.size() == 1 || onCaller) {
            tasks.forEach(Runnable::run);
            return;
        }
        List<Future<?>> futures = new ArrayList<>(tasks.size());
        for (Runnable t : tasks) {
            futures.add(pool.submit(t));
        }
        try {
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("DKM pass interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("DKM pass failed", e.getCause());
        }
    }

    private static void store(DkmData target, DkmLayout l, long e0, int len, float[] src) {
        for (int d = 0; d < l.dim(); d++) {
            target.write(e0 + d * l.inner(), len, src, d, l.dim());
        }
    }

    @Override
    public void attentionSums(DkmData w, DkmLayout l, DkmParams p, double[] cIn, boolean[] active, double[] sums) {
        int k = p.k();
        int dim = p.dim();
        int width = DkmPasses.sumsWidth(p);
        walk(l, k, width * l.partitions(), sums, w, null, false, null, (wk, part, e0, len) -> {
            if (!active[part]) {
                return;
            }
            int base = part * width;
            int co = part * k * dim;
            for (int i = 0; i < len; i++) {
                double inertia = DkmPointMath.attention(wk.x, i * dim, cIn, co, p, wk.sc);
                double[] a = wk.sc.attentionRow();
                for (int j = 0; j < k; j++) {
                    wk.partial[base + j] += a[j];
                    for (int t = 0; t < dim; t++) {
                        wk.partial[base + k + j * dim + t] += a[j] * wk.x[i * dim + t];
                    }
                }
                wk.partial[base + width - 1] += inertia;
            }
        });
    }

    @Override
    public void attentionApply(DkmData w, DkmData out, DkmLayout l, DkmParams p, double[] cIn, double[] cOut, boolean[] active) {
        int k = p.k();
        int dim = p.dim();
        walk(l, k, 0, null, w, null, confined(out), null, (wk, part, e0, len) -> {
            if (!active[part]) {
                return;
            }
            int co = part * k * dim;
            for (int i = 0; i < len; i++) {
                DkmPointMath.attention(wk.x, i * dim, cIn, co, p, wk.sc);
                double[] a = wk.sc.attentionRow();
                for (int t = 0; t < dim; t++) {
                    double v = 0;
                    for (int j = 0; j < k; j++) {
                        v += a[j] * cOut[co + j * dim + t];
                    }
                    wk.out[i * dim + t] = (float) v;
                }
            }
            store(out, l, e0, len, wk.out);
        });
    }

    @Override
    public void attentionGradientSums(DkmData w, DkmData g, DkmLayout l, DkmParams p, double[] cIn, boolean[] active, double[] sums) {
        int k = p.k();
        int dim = p.dim();
        walk(l, k, k * dim * l.partitions(), sums, w, g, false, null, (wk, part, e0, len) -> {
            if (!active[part]) {
                return;
            }
            int co = part * k * dim;
            for (int i = 0; i < len; i++) {
                DkmPointMath.attention(wk.x, i * dim, cIn, co, p, wk.sc);
                double[] a = wk.sc.attentionRow();
                for (int j = 0; j < k; j++) {
                    for (int t = 0; t < dim; t++) {
                        wk.partial[co + j * dim + t] += a[j] * wk.g[i * dim + t];
                    }
                }
            }
        });
    }

    @Override
    public void backwardIteration(DkmData w, DkmData g, DkmData gradIn, boolean accumulate, DkmLayout l, DkmParams p,
                                  double[] cIn, double[] cOut, double[] e, double[] f, byte[] role, double[] gcIn) {
        int k = p.k();
        int dim = p.dim();
        boolean anyDirect = false;
        for (byte r : role) {
            anyDirect |= r == 2;
        }
        walk(l, k, k * dim * l.partitions(), gcIn, w, anyDirect ? g : null, confined(gradIn), null, (wk, part, e0, len) -> {
            int co = part * k * dim;
            if (accumulate) {
                for (int d = 0; d < dim; d++) {
                    gradIn.read(e0 + d * l.inner(), len, wk.out, d, dim);
                }
            } else {
                Arrays.fill(wk.out, 0, len * dim, 0f);
            }
            if (role[part] != 0) {
                boolean direct = role[part] == 2;
                for (int i = 0; i < len; i++) {
                    DkmPointMath.attention(wk.x, i * dim, cIn, co, p, wk.sc);
                    if (direct) {
                        for (int t = 0; t < dim; t++) {
                            wk.gv[t] = wk.g[i * dim + t];
                        }
                    }
                    DkmPointMath.backward(wk.x, i * dim, cIn, co, direct ? wk.gv : null, 0, cOut, co, 1, e, co, f, part * k,
                            p, wk.sc, wk.partial, co);
                    double[] dx = wk.sc.pointGradient();
                    for (int t = 0; t < dim; t++) {
                        wk.out[i * dim + t] = (float) (wk.out[i * dim + t] + dx[t]);
                    }
                }
            } else if (accumulate) {
                return;
            }
            store(gradIn, l, e0, len, wk.out);
        });
    }

    /** Whether w's stored 16-bit patterns are its keys: then a pass reads them as keys, with no float round trip. */
    private static boolean keyedByBits(DkmData w, ValueKeys keys) {
        DType t = w.bitsType();
        return t == DType.F16 && keys == ValueKeys.F16 || t == DType.BF16 && keys == ValueKeys.BF16;
    }

    /** Points a block counts in int before folding into double: far below int overflow. */
    private static final long FOLD_POINTS = 1L << 30;

    @Override
    public boolean countValues(DkmData w, DkmLayout l, ValueKeys keys, double[] counts) {
        requireScalar(l);
        int reduction = 65536 * l.partitions();
        if (keyedByBits(w, keys)) {
            // Every pattern is a key (non-finite ones are refused by the engine's inertia check); int counts
            // are exact and added into the block's double partial, so the result equals counting in double.
            walk(l, 1, reduction, counts, w, true, null, false, null, (wk, part, e0, len) -> {
                int[] c = wk.counts(reduction);
                int base = part * 65536;
                short[] bits = wk.bits;
                for (int i = 0; i < len; i++) {
                    c[base + (bits[i] & 0xffff)]++;
                }
                wk.counted += len;
                if (wk.counted >= FOLD_POINTS) {
                    wk.foldCounts();
                }
            });
            return true;
        }
        AtomicBoolean failed = new AtomicBoolean();
        walk(l, 1, reduction, counts, w, null, false, failed, (wk, part, e0, len) -> {
            int base = part * 65536;
            for (int i = 0; i < len; i++) {
                int key = keys.key(wk.x[i]);
                if (key < 0) {
                    failed.set(true);
                    return;
                }
                wk.partial[base + key] += 1;
            }
        });
        return !failed.get();
    }

    /** Order-free ({@link FixedPointSums}): a walk for each key's count and largest |g|, then one adding the integer terms. */
    @Override
    public void sumByValue(DkmData w, DkmData g, DkmLayout l, ValueKeys keys, double[] sums) {
        requireScalar(l);
        boolean raw = keyedByBits(w, keys);
        int reduction = 65536 * l.partitions();
        long[] count = new long[reduction];
        int[] maxBits = new int[reduction];
        walk(l, 1, reduction, null, w, raw, g, false, null, (wk, part, e0, len) -> {
            long[] n = wk.keyLongs;
            int[] m = wk.keyMax;
            int base = part * 65536;
            for (int i = 0; i < len; i++) {
                int slot = base + (raw ? wk.bits[i] & 0xffff : keys.key(wk.x[i]));
                n[slot]++;
                m[slot] = Math.max(m[slot], FixedPointSums.magnitudeBits(wk.g[i]));
            }
        }, wk -> {
            wk.keyLongs(reduction);
            wk.keyMax(reduction);
        }, wk -> {
            synchronized (count) {
                for (int i = 0; i < reduction; i++) {
                    count[i] += wk.keyLongs[i];
                    maxBits[i] = Math.max(maxBits[i], wk.keyMax[i]);
                }
            }
        });
        // Each key's shift once, not per element.
        int[] shift = new int[reduction];
        for (int i = 0; i < reduction; i++) {
            shift[i] = FixedPointSums.scaled(maxBits[i]) ? FixedPointSums.shift(count[i], maxBits[i]) : 0;
        }
        long[] total = new long[reduction];
        walk(l, 1, reduction, null, w, raw, g, false, null, (wk, part, e0, len) -> {
            long[] acc = wk.keyLongs;
            int base = part * 65536;
            for (int i = 0; i < len; i++) {
                int slot = base + (raw ? wk.bits[i] & 0xffff : keys.key(wk.x[i]));
                if (FixedPointSums.scaled(maxBits[slot])) {
                    acc[slot] += FixedPointSums.term(wk.g[i], shift[slot]);
                }
            }
        }, wk -> wk.keyLongs(reduction), wk -> {
            synchronized (total) {
                for (int i = 0; i < reduction; i++) {
                    total[i] += wk.keyLongs[i];
                }
            }
        });
        for (int i = 0; i < reduction; i++) {
            sums[i] = FixedPointSums.value(total[i], count[i], maxBits[i]);
        }
    }

    @Override
    public void gatherByValue(DkmData w, DkmData out, DkmLayout l, ValueKeys keys, float[] table) {
        requireScalar(l);
        boolean raw = keyedByBits(w, keys);
        DType outBits = out.bitsType();
        if (raw && outBits != null) {
            // The output conversion of each table entry, once per call instead of once per element: same bits.
            short[] table16 = new short[table.length];
            for (int i = 0; i < table.length; i++) {
                table16[i] = outBits == DType.F16 ? Float.floatToFloat16(table[i]) : Floats.toBf16(table[i]);
            }
            walk(l, 1, 0, null, w, true, null, confined(out), null, (wk, part, e0, len) -> {
                int base = part * 65536;
                short[] bits = wk.bits;
                short[] o = wk.outBits;
                for (int i = 0; i < len; i++) {
                    o[i] = table16[base + (bits[i] & 0xffff)];
                }
                out.writeBits(e0, len, o);
            });
            return;
        }
        walk(l, 1, 0, null, w, raw, null, confined(out), null, (wk, part, e0, len) -> {
            int base = part * 65536;
            for (int i = 0; i < len; i++) {
                wk.out[i] = table[base + (raw ? wk.bits[i] & 0xffff : keys.key(wk.x[i]))];
            }
            out.write(e0, len, wk.out, 0, 1);
        });
    }

    @Override
    public void gatherGradientByValue(DkmData w, DkmData g, DkmData gradIn, DkmLayout l, ValueKeys keys, float[] a, float[] b) {
        requireScalar(l);
        boolean raw = keyedByBits(w, keys);
        walk(l, 1, 0, null, w, raw, g, confined(gradIn), null, (wk, part, e0, len) -> {
            int base = part * 65536;
            for (int i = 0; i < len; i++) {
                int key = base + (raw ? wk.bits[i] & 0xffff : keys.key(wk.x[i]));
                wk.out[i] = a[key] * wk.g[i] + b[key];
            }
            gradIn.write(e0, len, wk.out, 0, 1);
        });
    }

    @Override
    public void assign(DkmData w, DkmLayout l, DkmParams p, double[] c, IndexSink indices) {
        int k = p.k();
        int dim = p.dim();
        walk(l, k, 0, null, w, null, indices.threadConfined(), null, (wk, part, e0, len) -> {
            int co = part * k * dim;
            for (int i = 0; i < len; i++) {
                int best = 0;
                double bestD = Double.POSITIVE_INFINITY;
                for (int j = 0; j < k; j++) {
                    double sum = 0;
                    for (int t = 0; t < dim; t++) {
                        double diff = wk.x[i * dim + t] - c[co + j * dim + t];
                        sum += diff * diff;
                    }
                    if (j == 0) {
                        sum -= p.prune();
                    }
                    if (sum < bestD) {
                        bestD = sum;
                        best = j;
                    }
                }
                for (int t = 0; t < dim; t++) {
                    wk.idx[i * dim + t] = best;
                }
            }
            for (int d = 0; d < dim; d++) {
                indices.write(e0 + d * l.inner(), len, wk.idx, d, dim);
            }
        });
    }

    @Override
    public long firstNonFinite(DkmData data) {
        long n = data.length();
        float[] buf = new float[SLICE_POINTS];
        for (long from = 0; from < n; from += SLICE_POINTS) {
            int len = (int) Math.min(SLICE_POINTS, n - from);
            data.read(from, len, buf, 0, 1);
            for (int i = 0; i < len; i++) {
                if (!Float.isFinite(buf[i])) {
                    return from + i;
                }
            }
        }
        return -1;
    }

    @Override
    public void forEachBlock(int count, IntConsumer task) {
        List<Runnable> tasks = new ArrayList<>(count);
        for (int b = 0; b < count; b++) {
            int block = b;
            tasks.add(() -> task.accept(block));
        }
        run(tasks, false);
    }

    private static void requireScalar(DkmLayout l) {
        if (l.dim() != 1) {
            throw new IllegalArgumentException("per-value passes need cluster_dim 1, got " + l.dim());
        }
    }
}
