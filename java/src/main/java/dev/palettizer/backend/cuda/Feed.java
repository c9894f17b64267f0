package dev.palettizer.backend.cuda;

import dev.palettizer.backend.LayoutWalk.Chunk;
import dev.palettizer.model.GroupLayout;
import java.util.List;

/**
 * Where a step's tensor data comes from: streamed from the host chunk by chunk through the lanes
 * ({@link StreamedFeed}), or already on the device ({@link ResidentTensor}).
 */
interface Feed {
    GroupLayout layout();

    /** The per-row channel scales on the device, or null. */
    CuBuffer scales();

    /** The chunks to process for the vectors at positions [from, to). */
    List<Chunk> chunks(long from, long to);

    /** Host work for chunk c before its copies (fills the lane's staging); runs while the other lane computes. */
    void stage(Lane lane, Chunk c);

    /** Enqueues on the lane whatever brings chunk c onto the device, and returns its buffers. */
    ChunkData data(Lane lane, Chunk c);

    /** The chunk's indices on the device: uploaded from {@code host} (by position), or the resident ones. */
    CuBuffer indices(Lane lane, Chunk c, byte[] host);

    /** Where assignment writes the chunk's indices on the device. */
    CuBuffer indexTarget(Lane lane, Chunk c);

    /** A chunk on the device: raw values and sensitivities (null: all 1), clustered values x and weights w (null: all 1). */
    record ChunkData(CuBuffer raw, CuBuffer sens, CuBuffer x, CuBuffer w) {}
}
