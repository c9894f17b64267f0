package dev.palettizer.backend.opencl;

import dev.palettizer.backend.GrowOnlyPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Grow-only device buffers and native host staging, one of each per {@link Slot}, reused across
 * calls and tensors and released on close (see {@link GrowOnlyPool}).
 */
final class BufferPool implements AutoCloseable {
    /** What a buffer holds; one buffer per slot at a time (OUT: results on their way to the host). */
    enum Slot { RAW, SENS, X, W, SCALES, INDICES, LUT, SEGMENTS, SORTABLE, ORDER, PATTERN_VALUES, KEYS, VALUES, WEIGHTS,
        ACC, REDUCED, COUNTS, PATTERNS, DISTINCT, DISTINCT_VALUES,
        DISTINCT_WEIGHTS, PARTIALS, PACKED, OUT,
        /* the DKM passes (OpenClDkmPasses) */
        DKM_W, DKM_G, DKM_OUT, DKM_C_IN, DKM_C_OUT, DKM_E, DKM_F, DKM_FLAGS, DKM_TILES, DKM_PARTIALS, DKM_SUMS,
        DKM_TABLE_A, DKM_TABLE_B, DKM_FAILED, DKM_KEY_MAX, DKM_KEY_SUMS }

    /** Native host memory of one staging slot; its arena frees it. */
    private record Staging(Arena arena, MemorySegment segment) implements AutoCloseable {
        static Staging allocate(long bytes) {
            Arena arena = Arena.ofShared();
            return new Staging(arena, arena.allocate(bytes, 64));
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    private final GrowOnlyPool<Slot, ClBuffer> device;
    private final GrowOnlyPool<Slot, Staging> host = new GrowOnlyPool<>(Staging::allocate, s -> s.segment().byteSize());

    BufferPool(ClContext cl) {
        this.device = new GrowOnlyPool<>(bytes -> ClBuffer.allocate(cl.context(), bytes), ClBuffer::bytes);
    }

    /** The slot's device buffer, at least {@code bytes} large (contents undefined). */
    ClBuffer device(Slot slot, long bytes) {
        return device.get(slot, bytes);
    }

    /** The slot's native staging segment, exactly {@code bytes} long (contents undefined). */
    MemorySegment host(Slot slot, long bytes) {
        return host.get(slot, bytes).segment().asSlice(0, bytes);
    }

    @Override
    public void close() {
        device.close();
        host.close();
    }
}
