package dev.palettizer.backend.cuda;

import dev.palettizer.backend.ClusterInput;
import dev.palettizer.backend.LayoutWalk;
import dev.palettizer.backend.LayoutWalk.Chunk;
import dev.palettizer.backend.cuda.Lane.Slot;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.GroupLayout;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * A host tensor streamed to the device chunk by chunk: the host gathers a chunk into the lane's
 * pinned staging (in parallel, on the engine's pool) while the other lane's chunk is copied and
 * computed, then the lane copies it asynchronously and, with channel scales, prepares x and w.
 */
final class StreamedFeed implements Feed {
    /** Floats read from a {@link FloatSource} per call. */
    private static final int PIECE = 1 << 14;
    /** Positions gathered per parallel task. */
    private static final long GATHER_TASK = 1 << 18;

    private final ClusterInput in;
    private final CuBuffer scales;
    private final long chunkPositions;
    private final ForkJoinPool workers;
    private final Kernels kernels;

    /** @param scales the input's channel scales, already on the device (null when it has none) */
    StreamedFeed(ClusterInput in, CuBuffer scales, long chunkPositions, ForkJoinPool workers, Kernels kernels) {
        this.in = in;
        this.scales = scales;
        this.chunkPositions = chunkPositions;
        this.workers = workers;
        this.kernels = kernels;
    }

    @Override
    public GroupLayout layout() {
        return in.layout();
    }

    @Override
    public CuBuffer scales() {
        return scales;
    }

    @Override
    public List<Chunk> chunks(long from, long to) {
        return LayoutWalk.chunks(from, to, chunkPositions);
    }

    @Override
    public void stage(Lane lane, Chunk c) {
        gather(in.values(), lane.staging(Slot.RAW, bytes(c)), c);
        if (in.sensitivities() != null) {
            gather(in.sensitivities(), lane.staging(Slot.SENS, bytes(c)), c);
        }
    }

    private long bytes(Chunk c) {
        return 4L * c.count() * layout().clusterDim();
    }

    /** Fills the chunk's staging in position ranges of {@link #GATHER_TASK}, one task each. */
    private void gather(FloatSource src, MemorySegment dst, Chunk c) {
        GroupLayout l = layout();
        List<ForkJoinTask<?>> tasks = new ArrayList<>();
        for (long from = c.first(); from < c.end(); from += GATHER_TASK) {
            long start = from;
            long end = Math.min(c.end(), from + GATHER_TASK);
            tasks.add(ForkJoinTask.adapt(() -> LayoutWalk.gather(src, l, c, start, end, dst, new float[PIECE])));
        }
        if (tasks.size() == 1) {
            tasks.getFirst().invoke();
        } else if (ForkJoinTask.inForkJoinPool()) {
            ForkJoinTask.invokeAll(tasks);
        } else {
            workers.invoke(ForkJoinTask.adapt(() -> ForkJoinTask.invokeAll(tasks)));
        }
    }

    @Override
    public ChunkData data(Lane lane, Chunk c) {
        CuBuffer raw = lane.upload(Slot.RAW, bytes(c));
        CuBuffer sens = in.sensitivities() == null ? null : lane.upload(Slot.SENS, bytes(c));
        if (scales == null) {
            return new ChunkData(raw, sens, raw, sens);
        }
        long elements = c.count() * layout().clusterDim();
        CuBuffer x = lane.device(Slot.X, 4 * elements);
        CuBuffer w = lane.device(Slot.W, 4 * elements);
        kernels.prepare().launch(lane.stream(), CudaBackend.blocks(elements), LayoutWalk.struct(layout()), c.first(),
                c.count(), raw, sens, scales, x, w);
        return new ChunkData(raw, sens, x, w);
    }

    @Override
    public CuBuffer indices(Lane lane, Chunk c, byte[] host) {
        return lane.upload(Slot.INDICES, host, c.first(), c.count());
    }

    @Override
    public CuBuffer indexTarget(Lane lane, Chunk c) {
        return lane.device(Slot.INDICES, c.count());
    }
}
