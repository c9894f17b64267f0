package dev.palettizer.backend;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.function.IntConsumer;

/**
 * The host side of moving DKM per-element arrays to and from a device, shared by the OpenCL and CUDA
 * passes: arrays travel as F32 staged in a host segment (F16/BF16 widened and rounded back by
 * {@link DkmData}), and for each device slot, which promised input of the current step
 * ({@link DkmPasses#beginStep}) its buffer still holds, so that a step uploads each once. Copies are
 * matched by the identity of the data; any other upload into a slot, and every step boundary, forgets
 * the slot's copy, so a step never reads an earlier step's. Arrays travel in chunks (by default
 * {@link #CHUNK} elements (a staging buffer stays far below 2 GiB whatever the tensor), and a chunk is converted
 * by several host threads, {@link #PIECE} elements per task. Not thread-safe: the passes serialise calls.
 *
 * @param <S> the backend's buffer slots
 */
public final class DkmTransfers<S extends Enum<S>> {
    /** Elements of one staged chunk by default: 128 MiB of F32. */
    public static final long CHUNK = 1L << 25;
    /** Elements one host task converts. */
    private static final int PIECE = 1 << 20;
    /** Floats per {@link DkmData} read or write within a task. */
    private static final int RUN = 1 << 14;

    /** Runs {@code task.accept(b)} for every b in [0, count), possibly in parallel ({@link DkmPasses#forEachBlock}). */
    @FunctionalInterface
    public interface Tasks {
        void forEach(int count, IntConsumer task);
    }

    private final Tasks tasks;
    private final long chunk;
    private final EnumMap<S, Copy> resident;
    private DkmData promisedW;
    private DkmData promisedG;
    private long bytesUploaded;

    private record Copy(DkmData data, long elements) {}

    /**
     * @param tasks the host threads that convert chunks (data of a confined arena is converted on the caller)
     * @param chunk elements per chunk ({@link #CHUNK}; tests pass small ones to cross chunk boundaries)
     */
    public DkmTransfers(Class<S> slots, Tasks tasks, long chunk) {
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be at least 1 element, got " + chunk);
        }
        this.resident = new EnumMap<>(slots);
        this.tasks = tasks;
        this.chunk = chunk;
    }

    /** The number of chunks of {@code elements}. */
    public int chunks(long elements) {
        return (int) ((elements + chunk - 1) / chunk);
    }

    /** The first element of chunk {@code c}. */
    public long chunkStart(int c) {
        return c * chunk;
    }

    /** The elements of chunk {@code c} of {@code elements}. */
    public long chunkLength(int c, long elements) {
        return Math.min(chunk, elements - chunkStart(c));
    }

    /** Whether {@code slot}'s device buffer holds this step's copy of {@code data}: then no upload is needed. */
    public boolean holds(S slot, DkmData data, long elements) {
        Copy held = resident.get(slot);
        return held != null && held.data() == data && held.elements() == elements;
    }

    /** Forgets {@code slot}'s copy before an upload into it, so a failed upload leaves none. */
    public void forget(S slot) {
        resident.remove(slot);
    }

    /** Writes elements {@code [from, from + count)} of {@code data} as F32 into {@code host} (count at most a chunk). */
    public void stage(DkmData data, long from, long count, MemorySegment host) {
        convert(data, count, (p0, len, run) -> {
            for (long i = 0; i < len; i += RUN) {
                int n = (int) Math.min(RUN, len - i);
                data.read(from + p0 + i, n, run, 0, 1);
                MemorySegment.copy(run, 0, host, JAVA_FLOAT, 4 * (p0 + i), n);
            }
        });
    }

    /** Records a finished upload of {@code data} to {@code slot}; a promised input stays there for the step. */
    public void uploaded(S slot, DkmData data, long elements) {
        bytesUploaded += 4 * elements;
        if (data == promisedW || data == promisedG) {
            resident.put(slot, new Copy(data, elements));
        }
    }

    /** Writes the first {@code count} F32 values of {@code host} into elements {@code [from, from + count)} of {@code data}. */
    public void unstage(MemorySegment host, DkmData data, long from, long count) {
        convert(data, count, (p0, len, run) -> {
            for (long i = 0; i < len; i += RUN) {
                int n = (int) Math.min(RUN, len - i);
                MemorySegment.copy(host, JAVA_FLOAT, 4 * (p0 + i), run, 0, n);
                data.write(from + p0 + i, n, run, 0, 1);
            }
        });
    }

    private interface Piece {
        void convert(long offset, long length, float[] run);
    }

    /** Cuts {@code count} elements into pieces converted by the host tasks (by the caller for confined data). */
    private void convert(DkmData data, long count, Piece piece) {
        if (count > chunk) {
            throw new IllegalArgumentException("a chunk holds at most " + chunk + " elements, got " + count);
        }
        int pieces = (int) ((count + PIECE - 1) / PIECE);
        IntConsumer task = b -> {
            long p0 = (long) b * PIECE;
            piece.convert(p0, Math.min(PIECE, count - p0), new float[RUN]);
        };
        if (data.threadConfined() || pieces <= 1) {
            for (int b = 0; b < pieces; b++) {
                task.accept(b);
            }
        } else {
            tasks.forEach(pieces, task);
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
