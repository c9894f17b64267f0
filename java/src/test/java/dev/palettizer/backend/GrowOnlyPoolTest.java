package dev.palettizer.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sizes the pool asks its allocator for, with no native memory behind them. */
class GrowOnlyPoolTest {
    /** A buffer that only records its size. */
    private record Fake(long bytes) implements AutoCloseable {
        @Override
        public void close() {}
    }

    private final List<Long> allocated = new ArrayList<>();

    private GrowOnlyPool<String, Fake> pool(long maxBytes) {
        return new GrowOnlyPool<>(bytes -> {
            allocated.add(bytes);
            return new Fake(bytes);
        }, Fake::bytes, maxBytes);
    }

    @Test
    public void roundsUpToWholeGranulesAndReusesLargeEnoughBuffers() {
        GrowOnlyPool<String, Fake> p = pool(Long.MAX_VALUE);
        Fake a = p.get("a", 1);
        assertSame(a, p.get("a", GrowOnlyPool.GRANULE));
        p.get("a", GrowOnlyPool.GRANULE + 1);
        assertEquals(List.of(GrowOnlyPool.GRANULE, 2 * GrowOnlyPool.GRANULE), allocated);
    }

    /** A pinned request just under 2 GiB used to round up past what cuMemAllocHost's direct buffer can hold. */
    @Test
    public void aRequestJustUnderTheLimitGetsExactlyTheLimit() {
        long max = Integer.MAX_VALUE;
        GrowOnlyPool<String, Fake> p = pool(max);
        assertEquals(max, p.get("staging", max - 100).bytes());
        assertEquals(max, p.get("other", max).bytes());
        assertEquals(List.of(max, max), allocated);
    }

    @Test
    public void aRequestOverTheLimitFailsBeforeAnythingIsFreed() {
        GrowOnlyPool<String, Fake> p = pool(Integer.MAX_VALUE);
        Fake kept = p.get("staging", 10);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> p.get("staging", Integer.MAX_VALUE + 1L));
        assertTrue(e.getMessage().contains("2147483648 bytes") && e.getMessage().contains("staging"), e.getMessage());
        assertSame(kept, p.get("staging", 10));
        assertEquals(1, allocated.size());
    }
}
