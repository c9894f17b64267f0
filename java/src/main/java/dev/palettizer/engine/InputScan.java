package dev.palettizer.engine;

import dev.palettizer.model.FloatSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinTask;

/**
 * One pass over a tensor before clustering: rejects NaN/Inf values and NaN, Inf or negative
 * sensitivities (naming the first bad element), and finds each row's largest magnitude, which
 * gives the per-channel scales and tells whether fast mode's fp16 cast is in range.
 */
record InputScan(float[] rowMaxAbs, float maxAbs) {
    private static final int CHUNK = 8192;
    private static final long ROWS_TASK_ELEMENTS = 1 << 20;
    private static final int MAGNITUDE = 0x7fffffff;
    private static final int INFINITY_BITS = 0x7f800000;

    /** Per-output-channel scales: each row's max |w|, or 1 for an all-zero row. */
    float[] channelScales() {
        float[] scales = rowMaxAbs.clone();
        for (int i = 0; i < scales.length; i++) {
            if (scales[i] == 0) {
                scales[i] = 1f;
            }
        }
        return scales;
    }

    static InputScan of(TensorInput t, long rows) {
        long rowLength = rows == 0 ? 0 : t.values().size() / rows;
        long rowsPerTask = Math.max(1, ROWS_TASK_ELEMENTS / Math.max(1, rowLength));
        float[] rowMax = new float[Math.toIntExact(rows)];
        List<ForkJoinTask<Long>> tasks = new ArrayList<>();
        for (long r = 0; r < rows; r += rowsPerTask) {
            long from = r;
            long to = Math.min(rows, r + rowsPerTask);
            tasks.add(ForkJoinTask.adapt(() -> scanRows(t, rowLength, from, to, rowMax)));
        }
        ForkJoinTask.invokeAll(tasks);
        long firstBad = Long.MAX_VALUE;
        for (ForkJoinTask<Long> task : tasks) {
            firstBad = Math.min(firstBad, task.join());
        }
        if (firstBad != Long.MAX_VALUE) {
            throw badElement(t, firstBad);
        }
        float max = 0;
        for (float m : rowMax) {
            max = Math.max(max, m);
        }
        return new InputScan(rowMax, max);
    }

    /** Fills rowMax for rows [from, to); returns the first bad element index, or Long.MAX_VALUE. */
    private static long scanRows(TensorInput t, long rowLength, long from, long to, float[] rowMax) {
        float[] buf = new float[CHUNK];
        float[] sens = new float[CHUNK];
        FloatSource s = t.sensitivities();
        for (long r = from; r < to; r++) {
            float max = 0;
            for (long off = 0; off < rowLength; off += CHUNK) {
                int len = (int) Math.min(CHUNK, rowLength - off);
                long element = r * rowLength + off;
                t.values().read(element, buf, 0, len);
                if (s != null) {
                    s.read(element, sens, 0, len);
                }
                int maxBits = maxMagnitudeBits(buf, len);
                boolean bad = maxBits >= INFINITY_BITS || (s != null && anyBadSensitivity(sens, len));
                max = Math.max(max, Float.intBitsToFloat(maxBits));
                if (bad) {
                    for (int i = 0; i < len; i++) {
                        if (!Float.isFinite(buf[i]) || (s != null && !(sens[i] >= 0 && Float.isFinite(sens[i])))) {
                            return element + i;
                        }
                    }
                }
            }
            rowMax[(int) r] = max;
        }
        return Long.MAX_VALUE;
    }

    /**
     * The largest magnitude of {@code values[0, length)} as float bits. Magnitudes compared as bits: for finite values
     * the int order is the float order, and any infinity or NaN lands at or past the infinity's bits. Integer max
     * vectorises; Math.max on floats (NaN and signed-zero rules) does not. A small kernel called once per chunk, so
     * that a cold run's C2 compiles it early by invocation count rather than the whole scan as one large unit.
     */
    private static int maxMagnitudeBits(float[] values, int length) {
        int maxBits = 0;
        for (int i = 0; i < length; i++) {
            maxBits = Math.max(maxBits, Float.floatToRawIntBits(values[i]) & MAGNITUDE);
        }
        return maxBits;
    }

    /** Whether any of {@code sens[0, length)} is NaN, infinite or negative (a per-chunk kernel, as above). */
    private static boolean anyBadSensitivity(float[] sens, int length) {
        boolean bad = false;
        for (int i = 0; i < length; i++) {
            bad |= !(sens[i] >= 0 && sens[i] < Float.POSITIVE_INFINITY);
        }
        return bad;
    }

    private static TensorDataException badElement(TensorInput t, long index) {
        float[] one = new float[1];
        t.values().read(index, one, 0, 1);
        if (!Float.isFinite(one[0])) {
            return new TensorDataException("tensor '" + t.name() + "': value " + one[0] + " at element " + index + " "
                    + t.coordinates(index) + " is not finite; palettization needs finite weights");
        }
        t.sensitivities().read(index, one, 0, 1);
        return new TensorDataException("tensor '" + t.name() + "': sensitivity " + one[0] + " at element " + index
                + " " + t.coordinates(index) + " is not a finite non-negative number");
    }
}
