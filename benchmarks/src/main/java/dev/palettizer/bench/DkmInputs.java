package dev.palettizer.bench;

import dev.palettizer.engine.SyntheticModel;
import dev.palettizer.model.DType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.stream.LongStream;

/**
 * Off-heap inputs of the DKM benchmarks, written straight into segments on all cores (no file):
 * weights as {@link SyntheticModel}'s Laplace(0, 0.02) with one row in 16 four times wider, and
 * gradients uniform in +-1e-3. Deterministic: each chunk has its own seeded generator, so the bits
 * do not depend on the thread count.
 */
final class DkmInputs {
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long CHUNK = 1 << 20;

    private DkmInputs() {}

    /** Laplace weights, rows of {@code rowLength} elements, in F16 or F32. */
    static void weights(MemorySegment seg, DType type, long rowLength, long seed) {
        long n = seg.byteSize() / type.byteSize();
        fill(n, seed, (random, from, to) -> {
            float spread = spread(seed, from / rowLength);
            for (long i = from; i < to; i++) {
                if (i % rowLength == 0) {
                    spread = spread(seed, i / rowLength);
                }
                put(seg, type, i, (float) (spread * SyntheticModel.laplace(random, 0.02)));
            }
        });
    }

    /** Gradients of the palettized weight: uniform in +-1e-3. */
    static void gradients(MemorySegment seg, DType type, long seed) {
        long n = seg.byteSize() / type.byteSize();
        fill(n, seed, (random, from, to) -> {
            for (long i = from; i < to; i++) {
                put(seg, type, i, (float) ((random.nextDouble() - 0.5) * 2e-3));
            }
        });
    }

    private interface ChunkBody {
        void fill(SplittableRandom random, long from, long to);
    }

    private static void fill(long n, long seed, ChunkBody body) {
        long chunks = (n + CHUNK - 1) / CHUNK;
        LongStream.range(0, chunks).parallel().forEach(c ->
                body.fill(new SplittableRandom(seed * 1_000_003L + c), c * CHUNK, Math.min(n, (c + 1) * CHUNK)));
    }

    private static float spread(long seed, long row) {
        return (new SplittableRandom(seed ^ (row * 0x9E3779B97F4A7C15L)).nextInt(16) == 0) ? 4f : 1f;
    }

    private static void put(MemorySegment seg, DType type, long i, float v) {
        if (type == DType.F16) {
            seg.setAtIndex(U16, i, Float.floatToFloat16(v));
        } else {
            seg.setAtIndex(F32, i, v);
        }
    }
}
