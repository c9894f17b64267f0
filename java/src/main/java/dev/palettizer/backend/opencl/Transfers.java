package dev.palettizer.backend.opencl;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.palettizer.backend.LayoutWalk;
import dev.palettizer.backend.LayoutWalk.Chunk;
import dev.palettizer.backend.opencl.BufferPool.Slot;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.GroupLayout;
import java.lang.foreign.MemorySegment;

/**
 * Host <-> device copies through the pool's native staging (the device's byte order is the host's,
 * little-endian, on every platform we run on). Chunks of a tensor travel component-major:
 * component t of the vector at position first + i sits at float index t * count + i.
 */
final class Transfers {
    /** Floats read from a {@link FloatSource} per call. */
    private static final int PIECE = 1 << 14;

    private final ClContext cl;
    private final BufferPool pool;
    private final float[] piece = new float[PIECE];
    private long downloaded;

    Transfers(ClContext cl, BufferPool pool) {
        this.cl = cl;
        this.pool = pool;
    }

    ClBuffer floats(Slot slot, float[] src) {
        MemorySegment host = pool.host(slot, 4L * src.length);
        MemorySegment.copy(src, 0, host, JAVA_FLOAT, 0, src.length);
        return upload(slot, host);
    }

    ClBuffer ints(Slot slot, int[] src) {
        MemorySegment host = pool.host(slot, 4L * src.length);
        MemorySegment.copy(src, 0, host, JAVA_INT, 0, src.length);
        return upload(slot, host);
    }

    ClBuffer longs(Slot slot, long[] src) {
        MemorySegment host = pool.host(slot, 8L * src.length);
        MemorySegment.copy(src, 0, host, JAVA_LONG, 0, src.length);
        return upload(slot, host);
    }

    /** src[from, from + count) */
    ClBuffer bytes(Slot slot, byte[] src, long from, long count) {
        MemorySegment host = pool.host(slot, count);
        MemorySegment.copy(src, Math.toIntExact(from), host, JAVA_BYTE, 0, Math.toIntExact(count));
        return upload(slot, host);
    }

    private ClBuffer upload(Slot slot, MemorySegment host) {
        ClBuffer b = pool.device(slot, host.byteSize());
        if (host.byteSize() > 0) {
            cl.write(b, 0, host, host.byteSize());
        }
        return b;
    }

    /** The chunk's vectors of {@code src}, component-major. */
    ClBuffer gather(Slot slot, FloatSource src, GroupLayout l, Chunk c) {
        MemorySegment host = pool.host(slot, 4L * c.count() * l.clusterDim());
        LayoutWalk.gather(src, l, c, c.first(), c.end(), host, piece);
        return upload(slot, host);
    }

    /** Writes a component-major chunk of dense values from the device into row-major {@code out}. */
    void scatter(ClBuffer b, GroupLayout l, Chunk c, float[] out) {
        LayoutWalk.scatter(read(Slot.OUT, b, 4L * c.count() * l.clusterDim()), l, c, out);
    }

    void readBytes(ClBuffer b, byte[] dst, long dstFrom, long count) {
        MemorySegment host = read(Slot.OUT, b, count);
        MemorySegment.copy(host, JAVA_BYTE, 0, dst, Math.toIntExact(dstFrom), Math.toIntExact(count));
    }

    double[] readDoubles(ClBuffer b, long count) {
        return read(Slot.OUT, b, 8 * count).toArray(JAVA_DOUBLE);
    }

    float[] readFloats(ClBuffer b, long count) {
        return read(Slot.OUT, b, 4 * count).toArray(JAVA_FLOAT);
    }

    int[] readInts(ClBuffer b, long count) {
        return read(Slot.OUT, b, 4 * count).toArray(JAVA_INT);
    }

    /** Bytes copied from the device to the host so far. */
    long downloaded() {
        return downloaded;
    }

    private MemorySegment read(Slot staging, ClBuffer b, long bytes) {
        MemorySegment host = pool.host(staging, bytes);
        if (bytes > 0) {
            cl.read(b, 0, host, bytes);
            downloaded += bytes;
        }
        return host;
    }
}
