package dev.palettizer.backend.opencl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;

/**
 * Grow-only device buffers and native host staging, one of each per {@link Slot}, reused across
 * calls and tensors and released on close. A request no larger than the current buffer reuses it.
 */
final class BufferPool implements AutoCloseable {
    /** What a buffer holds; one buffer per slot at a time (OUT: results on their way to the host). */
    enum Slot { RAW, SENS, X, W, SCALES, INDICES, LUT, SEGMENTS, SORTABLE, KEYS, VALUES, WEIGHTS, ACC, REDUCED,
        PARTIALS, PACKED, OUT }

    /** Allocation granule: small requests share one size, so slightly different tensors reuse buffers. */
    private static final long GRANULE = 1 << 16;

    private final ClContext cl;
    private final Map<Slot, ClBuffer> device = new EnumMap<>(Slot.class);
    private final Map<Slot, Arena> hostArenas = new EnumMap<>(Slot.class);
    private final Map<Slot, MemorySegment> host = new EnumMap<>(Slot.class);

    BufferPool(ClContext cl) {
        this.cl = cl;
    }

    private static long rounded(long bytes) {
        return Math.max(GRANULE, (bytes + GRANULE - 1) / GRANULE * GRANULE);
    }

    /** The slot's device buffer, at least {@code bytes} large (contents undefined). */
    ClBuffer device(Slot slot, long bytes) {
        ClBuffer b = device.get(slot);
        if (b == null || b.bytes() < bytes) {
            if (b != null) {
                b.close();
            }
            device.remove(slot);
            b = ClBuffer.allocate(cl.context(), rounded(bytes));
            device.put(slot, b);
        }
        return b;
    }

    /** The slot's native staging segment, exactly {@code bytes} long (contents undefined). */
    MemorySegment host(Slot slot, long bytes) {
        MemorySegment s = host.get(slot);
        if (s == null || s.byteSize() < bytes) {
            Arena old = hostArenas.remove(slot);
            if (old != null) {
                old.close();
            }
            Arena arena = Arena.ofShared();
            s = arena.allocate(rounded(bytes), 64);
            hostArenas.put(slot, arena);
            host.put(slot, s);
        }
        return s.asSlice(0, bytes);
    }

    @Override
    public void close() {
        device.values().forEach(ClBuffer::close);
        device.clear();
        hostArenas.values().forEach(Arena::close);
        hostArenas.clear();
        host.clear();
    }
}
