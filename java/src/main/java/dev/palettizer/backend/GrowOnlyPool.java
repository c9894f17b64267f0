package dev.palettizer.backend;

import java.util.HashMap;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * Grow-only native buffers (device memory, pinned or native host memory), one per key, reused
 * across calls and tensors: a request no larger than the key's buffer returns it; a larger one
 * frees it and allocates a new one, rounded up to a granule so that slightly different tensors
 * share sizes, but never past the pool's largest buffer (a request just under that limit gets exactly
 * the limit; one above it fails before anything is freed). {@link #close()} frees every buffer;
 * closing twice is harmless. Not thread-safe:
 * the device backends serialise their calls.
 *
 * @param <K> what a buffer holds (a slot)
 * @param <B> the buffer type
 */
public final class GrowOnlyPool<K, B extends AutoCloseable> implements AutoCloseable {
    /** Allocation granule. */
    public static final long GRANULE = 1 << 16;

    /** Allocates a buffer of exactly {@code bytes}. */
    @FunctionalInterface
    public interface Allocator<B> {
        B allocate(long bytes);
    }

    private final Allocator<B> allocator;
    private final ToLongFunction<B> capacity;
    private final long maxBytes;
    private final Map<K, B> buffers = new HashMap<>();

    /** @param capacity the bytes a buffer holds */
    public GrowOnlyPool(Allocator<B> allocator, ToLongFunction<B> capacity) {
        this(allocator, capacity, Long.MAX_VALUE);
    }

    /**
     * @param capacity the bytes a buffer holds
     * @param maxBytes the largest buffer the allocator can make
     */
    public GrowOnlyPool(Allocator<B> allocator, ToLongFunction<B> capacity, long maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("largest buffer must be at least 1 byte, got " + maxBytes);
        }
        this.allocator = allocator;
        this.capacity = capacity;
        this.maxBytes = maxBytes;
    }

    /** The size allocated for a request of {@code bytes}: whole granules, within the largest buffer. */
    long rounded(long bytes) {
        long granules = Math.max(1, bytes / GRANULE + (bytes % GRANULE == 0 ? 0 : 1));
        return granules > maxBytes / GRANULE ? maxBytes : granules * GRANULE;
    }

    /** The key's buffer, at least {@code bytes} large (contents undefined). */
    public B get(K key, long bytes) {
        if (bytes > maxBytes) {
            throw new IllegalArgumentException("buffer of " + bytes + " bytes requested for " + key
                    + ", larger than the largest this pool allocates (" + maxBytes + " bytes)");
        }
        B b = buffers.get(key);
        if (b == null || capacity.applyAsLong(b) < bytes) {
            if (b != null) {
                buffers.remove(key);
                closeQuietly(b);
            }
            b = allocator.allocate(rounded(bytes));
            buffers.put(key, b);
        }
        return b;
    }

    @Override
    public void close() {
        buffers.values().forEach(GrowOnlyPool::closeQuietly);
        buffers.clear();
    }

    /** Buffers' close methods throw only unchecked exceptions; a checked one is a programming error. */
    private static void closeQuietly(AutoCloseable b) {
        try {
            b.close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("closing " + b, e);
        }
    }
}
