package dev.palettizer.backend;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.EnumMap;

/**
 * The host side of moving DKM per-element arrays to and from a device, shared by the OpenCL and CUDA
 * passes: arrays travel as F32 staged in a host segment (F16/BF16 widened and rounded back by
 * {@link DkmData}), and for each device slot, which promised input of the current step
 * ({@link DkmPasses#beginStep}) its buffer still holds, so that a step uploads each once. Copies are
 * matched by the identity of the data; any other upload into a slot, and every step boundary, forgets
 * the slot's copy, so a step never reads an earlier step's. Not thread-safe: the passes serialise calls.
 *
 * @param <S> the backend's buffer slots
 */
public final class DkmTransfers<S extends Enum<S>> {
    /** Floats staged per {@link DkmData} read or write. */
    private static final int PIECE = 1 << 14;

    private final float[] piece = new float[PIECE];
    private final EnumMap<S, Copy> resident;
    private DkmData promisedW;
    private DkmData promisedG;
    private long bytesUploaded;

    private record Copy(DkmData data, long elements) {}

    public DkmTransfers(Class<S> slots) {
        this.resident = new EnumMap<>(slots);
    }

    /** Whether {@code slot}'s device buffer holds this step's copy of {@code data}: then no upload is needed. */
    public boolean holds(S slot, DkmData data, long elements) {
        Copy held = resident.get(slot);
        return held != null && held.data() == data && held.elements() == elements;
    }

    /**
     * Writes the first {@code elements} of {@code data} as F32 into {@code host}, to be uploaded to
     * {@code slot}; the slot's earlier copy is forgotten first, so a failed upload leaves none.
     */
    public void stage(S slot, DkmData data, long elements, MemorySegment host) {
        resident.remove(slot);
        for (long from = 0; from < elements; from += PIECE) {
            int len = (int) Math.min(PIECE, elements - from);
            data.read(from, len, piece, 0, 1);
            MemorySegment.copy(piece, 0, host, JAVA_FLOAT, 4 * from, len);
        }
    }

    /** Records a finished upload of {@code data} to {@code slot}; a promised input stays there for the step. */
    public void uploaded(S slot, DkmData data, long elements) {
        bytesUploaded += 4 * elements;
        if (data == promisedW || data == promisedG) {
            resident.put(slot, new Copy(data, elements));
        }
    }

    /** Writes the first {@code elements} F32 values of {@code host} into {@code data}. */
    public void unstage(MemorySegment host, DkmData data, long elements) {
        for (long from = 0; from < elements; from += PIECE) {
            int len = (int) Math.min(PIECE, elements - from);
            MemorySegment.copy(host, JAVA_FLOAT, 4 * from, piece, 0, len);
            data.write(from, len, piece, 0, 1);
        }
    }

    /** Starts a step whose weight {@code w} and gradient {@code g} (may be null) stay unchanged until {@link #endStep}. */
    public void beginStep(DkmData w, DkmData g) {
        endStep();
        promisedW = w;
        promisedG = g;
    }

    /** Ends the step: every slot's copy is forgotten. */
    public void endStep() {
        resident.clear();
        promisedW = null;
        promisedG = null;
    }

    /** Bytes of per-element data copied to the device so far. */
    public long bytesUploaded() {
        return bytesUploaded;
    }
}
