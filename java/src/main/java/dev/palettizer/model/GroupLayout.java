package dev.palettizer.model;

import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.util.Arrays;
import java.util.Optional;

/**
 * How a row-major tensor of shape [d0, d1, rest...] splits into LUT groups and index positions.
 *
 * <p>A vector is {@code clusterDim} elements along axis 0 (output channels): the element at
 * (row r, offset o) and the ones at rows r+1..r+clusterDim-1, same offset, with r a multiple of
 * clusterDim. Its index sits at stream position {@code (r / clusterDim) * rowStride + o}, so for
 * scalars the index stream is in element order. The first elements of group g's vectors are
 * {@link #runCount()} runs of {@link #runLength()} consecutive elements, starting at
 * {@code groupStart(g) + i * runStride()}. A 1-D tensor is treated as [n, 1].
 *
 * <p>A <em>ragged</em> layout (axis 0, group size not dividing the rows; only with
 * {@link Granularity.PerGroupedChannel#raggedLast()}) has a smaller last group. Its groups differ in
 * size, so the per-group figures ({@link #runLength()}, {@link #runCount()}, {@link #vectorsPerGroup()})
 * refuse it; {@link #vectorsInGroup(int)} answers for any group. Backends never see such a layout:
 * the engine clusters {@link #prefix()} (the full groups) and {@link #tail()} (the last group, as
 * one per-tensor block) separately, both plain layouts over contiguous rows, and joins the results.
 *
 * @param axis -1 for one group (per tensor), else the channel axis groups are taken along
 */
public record GroupLayout(long rows, long cols, long inner, int clusterDim, int axis, long groupSize) {

    public long rowStride() {
        return cols * inner;
    }

    public long elementCount() {
        return rows * rowStride();
    }

    public long vectorCount() {
        return elementCount() / clusterDim;
    }

    /** Whether the last group is smaller than the others (see the class comment). */
    public boolean ragged() {
        return axis == 0 && rows % groupSize != 0;
    }

    public int groups() {
        return switch (axis) {
            case 0 -> Math.toIntExact((rows + groupSize - 1) / groupSize);
            case 1 -> Math.toIntExact(cols / groupSize);
            default -> 1;
        };
    }

    public long groupStart(int g) {
        return switch (axis) {
            case 0 -> g * groupSize * rowStride();
            case 1 -> g * groupSize * inner;
            default -> 0;
        };
    }

    /** Whether each group's elements are one contiguous block (scalars, per tensor or along axis 0). */
    private boolean contiguousGroups() {
        return clusterDim == 1 && axis != 1;
    }

    public long runLength() {
        requireEvenGroups("runLength");
        if (contiguousGroups()) {
            return axis == 0 ? groupSize * rowStride() : elementCount();
        }
        return axis == 1 ? groupSize * inner : rowStride();
    }

    public long runCount() {
        requireEvenGroups("runCount");
        if (contiguousGroups()) {
            return 1;
        }
        return axis == 0 ? groupSize / clusterDim : rows / clusterDim;
    }

    public long runStride() {
        return clusterDim * rowStride();
    }

    /** Vectors per group. */
    public long vectorsPerGroup() {
        return runLength() * runCount();
    }

    /** Vectors of group {@code g}, the ragged last group included. */
    public long vectorsInGroup(int g) {
        if (g < 0 || g >= groups()) {
            throw new IndexOutOfBoundsException("group " + g + " of " + groups());
        }
        if (!ragged()) {
            return vectorsPerGroup();
        }
        long groupRows = Math.min(groupSize, rows - g * groupSize);
        return groupRows / clusterDim * rowStride();
    }

    /** Rows of the full groups: all rows unless ragged. */
    public long prefixRows() {
        return ragged() ? rows / groupSize * groupSize : rows;
    }

    /**
     * The full groups of a ragged layout: a plain layout over its first {@link #prefixRows()} rows,
     * or none when the only group is the ragged one.
     */
    public Optional<GroupLayout> prefix() {
        requireRagged("prefix");
        long r = prefixRows();
        return r == 0 ? Optional.empty() : Optional.of(new GroupLayout(r, cols, inner, clusterDim, 0, groupSize));
    }

    /** The last group of a ragged layout, as one per-tensor layout over the rows after {@link #prefixRows()}. */
    public GroupLayout tail() {
        requireRagged("tail");
        return new GroupLayout(rows - prefixRows(), cols, inner, clusterDim, -1, 1);
    }

    private void requireEvenGroups(String what) {
        if (ragged()) {
            throw new IllegalStateException(what + " is per group, and the last group of this ragged layout ("
                    + rows + " rows in groups of " + groupSize + ") is smaller: use vectorsInGroup(g), or prefix()"
                    + " and tail()");
        }
    }

    private void requireRagged(String what) {
        if (!ragged()) {
            throw new IllegalStateException(what + " is for ragged layouts only");
        }
    }

    /** Index-stream position of the vector whose first element is {@code element}. */
    public long position(long element) {
        long rs = rowStride();
        return (element / (clusterDim * rs)) * rs + element % rs;
    }

    /** Group of the element at (row, offset within the row). */
    public int groupOf(long row, long offsetInRow) {
        return switch (axis) {
            case 0 -> (int) (row / groupSize);
            case 1 -> (int) (offsetInRow / inner / groupSize);
            default -> 0;
        };
    }

    /**
     * The layout for {@code spec} on {@code shape}, or the reason it cannot apply (group size or
     * cluster_dim not dividing the channels, unless the granularity allows a ragged last group):
     * such tensors are left as they are. A ragged last group holds whole vectors, since cluster_dim
     * divides both the rows and the group size.
     */
    public static Result of(long[] shape, PalettizationSpec spec) {
        long rows = shape.length == 0 ? 1 : shape[0];
        long cols = shape.length < 2 ? 1 : shape[1];
        long inner = 1;
        for (int i = 2; i < shape.length; i++) {
            inner *= shape[i];
        }
        int cd = spec.clusterDim();
        String shapeText = Arrays.toString(shape);
        if (rows % cd != 0) {
            return Result.skip("cluster_dim " + cd + " does not divide the " + rows + " output channels of shape "
                    + shapeText);
        }
        if (!(spec.granularity() instanceof Granularity.PerGroupedChannel(int axis, int gs, boolean ragged))) {
            return Result.ok(new GroupLayout(rows, cols, inner, cd, -1, 1));
        }
        long channels = axis == 0 ? rows : cols;
        // A ragged last group is along axis 0 only (the granularity refuses it on axis 1).
        if (channels % gs != 0 && !ragged) {
            return Result.skip("group_size " + gs + " does not divide the " + channels + " channels along axis "
                    + axis + " of shape " + shapeText);
        }
        if (axis == 0 && gs % cd != 0) {
            return Result.skip("cluster_dim " + cd + " does not divide group_size " + gs
                    + " (vectors run along axis 0 and may not cross groups)");
        }
        return Result.ok(new GroupLayout(rows, cols, inner, cd, axis, gs));
    }

    /** A layout, or why the spec cannot apply to the shape. */
    public record Result(Optional<GroupLayout> layout, String skipReason) {
        static Result ok(GroupLayout l) {
            return new Result(Optional.of(l), null);
        }

        static Result skip(String reason) {
            return new Result(Optional.empty(), reason);
        }
    }
}
