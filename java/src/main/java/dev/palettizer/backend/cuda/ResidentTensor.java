package dev.palettizer.backend.cuda;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;

import dev.palettizer.backend.CentroidSums;
import dev.palettizer.backend.ClusterInput;
import dev.palettizer.backend.JavaBackend;
import dev.palettizer.backend.LayoutWalk;
import dev.palettizer.backend.LayoutWalk.Chunk;
import dev.palettizer.backend.ValueKey;
import dev.palettizer.backend.WeightedValues;
import dev.palettizer.backend.cuda.Feed.ChunkData;
import dev.palettizer.backend.cuda.Lane.Slot;
import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.GroupLayout;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A tensor kept on the device by a {@link CudaBackend}: uploaded once, then histogrammed, assigned
 * and summed as often as needed with no host copies but the small results. The indices of the last
 * {@link #assign} stay on the device for {@link #centroidSums}. The data is one chunk of every
 * position, component-major. Closing frees its device memory; closing twice is harmless.
 */
public final class ResidentTensor implements AutoCloseable {
    /** Positions uploaded per staging copy. */
    private static final long UPLOAD_PIECE = 1 << 22;

    private final CudaBackend backend;
    private final GroupLayout layout;
    private final Chunk all;
    private final List<CuBuffer> owned = new ArrayList<>();
    private final ChunkData data;
    private final CuBuffer scales;
    private final CuBuffer indices;
    private boolean assigned;
    private boolean closed;

    ResidentTensor(CudaBackend backend, ClusterInput in) {
        this.backend = backend;
        this.layout = in.layout();
        this.all = new Chunk(0, layout.vectorCount());
        long bytes = 4 * layout.elementCount();
        try {
            CuBuffer raw = own(bytes);
            upload(in.values(), raw);
            CuBuffer sens = null;
            if (in.sensitivities() != null) {
                sens = own(bytes);
                upload(in.sensitivities(), sens);
            }
            if (in.channelScales() != null) {
                scales = own(4L * in.channelScales().length);
                Lane lane = backend.uploadLane();
                CuBuffer staged = lane.upload(Slot.SCALES, in.channelScales());
                copy(lane, staged, scales, 4L * in.channelScales().length);
                CuBuffer x = own(bytes);
                CuBuffer w = own(bytes);
                backend.kernels().prepare().launch(lane.stream(), CudaBackend.blocks(layout.elementCount()),
                        LayoutWalk.struct(layout), 0L, all.count(), raw, sens, scales, x, w);
                lane.finish();
                lane.await();
                data = new ChunkData(raw, sens, x, w);
            } else {
                scales = null;
                data = new ChunkData(raw, sens, raw, sens);
            }
            indices = own(Math.max(1, layout.vectorCount()));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private CuBuffer own(long bytes) {
        CuBuffer b = CuBuffer.allocate(Math.max(4, bytes));
        owned.add(b);
        return b;
    }

    /** Gathers pieces of positions into the lane's staging and copies each component's run to its place. */
    private void upload(FloatSource src, CuBuffer dst) {
        Lane lane = backend.uploadLane();
        int cd = layout.clusterDim();
        float[] piece = new float[1 << 14];
        for (long from = 0; from < all.count(); from += UPLOAD_PIECE) {
            Chunk part = new Chunk(from, Math.min(UPLOAD_PIECE, all.count() - from));
            long partBytes = 4 * part.count() * cd;
            lane.await();
            LayoutWalk.gather(src, layout, part, part.first(), part.end(), lane.staging(Slot.RAW, partBytes), piece);
            for (int t = 0; t < cd; t++) {
                long runBytes = 4 * part.count();
                CuErrors.check(cuMemcpyHtoDAsync(dst.pointer().withByteOffset(4 * (t * all.count() + part.first())),
                        lane.stagingPointer(Slot.RAW, partBytes).withByteOffset(t * runBytes), runBytes, lane.stream()),
                        "cuMemcpyHtoDAsync(" + runBytes + " bytes)");
            }
            lane.finish();
        }
        lane.await();
    }

    private static void copy(Lane lane, CuBuffer src, CuBuffer dst, long bytes) {
        CuErrors.check(cuMemcpyDtoDAsync(dst.pointer(), src.pointer(), bytes, lane.stream()),
                "cuMemcpyDtoDAsync(" + bytes + " bytes)");
    }

    // ---------------------------------------------------------------- the steps

    /** The histogram of every group (scalars; 16-bit keys for groups of >= 32768 values). */
    public WeightedValues[] histogram(ValueKey key) {
        return backend.locked(() -> {
            live();
            CudaBackend.checkHistogram(layout, 0, layout.groups());
            if (layout.vectorsPerGroup() >= JavaBackend.DENSE_HISTOGRAM_MIN && !key.sixteenBit()) {
                throw new IllegalArgumentException("fp32 keys of groups of " + layout.vectorsPerGroup()
                        + " values are histogrammed on the host; use CudaBackend.histogram");
            }
            return backend.histogram(feed, key, 0, layout.groups());
        });
    }

    /** Assigns every vector to its nearest LUT entry; the indices stay on the device. */
    public ErrorStats assign(float[] lut, int lutSize) {
        return backend.locked(() -> {
            live();
            CudaBackend.checkLut(layout, lut, lutSize);
            ErrorStats e = backend.assign(feed, lut, lutSize, null);
            assigned = true;
            return e;
        });
    }

    /** Lloyd's sums over the indices of the last {@link #assign}. */
    public CentroidSums centroidSums(int lutSize) {
        return backend.locked(() -> {
            live();
            requireAssigned();
            return backend.centroidSums(feed, null, lutSize);
        });
    }

    /** The indices of the last {@link #assign}, copied to the host. */
    public byte[] indices() {
        return backend.locked(() -> {
            live();
            requireAssigned();
            Lane lane = backend.uploadLane();
            lane.download(indices, Slot.INDICES, all.count());
            lane.finish();
            lane.await();
            byte[] out = new byte[Math.toIntExact(all.count())];
            MemorySegment.copy(lane.read(Slot.INDICES, JAVA_BYTE, all.count()), JAVA_BYTE, 0, out, 0, out.length);
            return out;
        });
    }

    private void requireAssigned() {
        if (!assigned) {
            throw new IllegalStateException("no indices on the device yet: call assign first");
        }
    }

    private void live() {
        if (closed) {
            throw new IllegalStateException("resident tensor used after close");
        }
    }

    /** The steps' view of this tensor: one chunk of every position, already on the device. */
    private final Feed feed = new Feed() {
        @Override
        public GroupLayout layout() {
            return layout;
        }

        @Override
        public CuBuffer scales() {
            return scales;
        }

        @Override
        public List<Chunk> chunks(long from, long to) {
            return List.of(all);
        }

        @Override
        public void stage(Lane lane, Chunk c) {}

        @Override
        public ChunkData data(Lane lane, Chunk c) {
            return data;
        }

        @Override
        public CuBuffer indices(Lane lane, Chunk c, byte[] host) {
            return indices;
        }

        @Override
        public CuBuffer indexTarget(Lane lane, Chunk c) {
            return indices;
        }
    };

    /** Frees the device memory; after the backend's close there is nothing left to free (its context went with it). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (backend.isOpen()) {
                backend.locked(() -> {
                    owned.forEach(CuBuffer::close);
                    return null;
                });
            }
        }
    }
}
