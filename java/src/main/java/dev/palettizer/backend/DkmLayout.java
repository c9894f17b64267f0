package dev.palettizer.backend;

/**
 * How a weight's elements form DKM points and partitions, without any per-element table.
 *
 * <p>The weight is viewed as {@code [outer][axisLen][inner]} around its clustering axis (axis 0, or
 * {@code cluster_permute[0]}). A point is {@code dim} elements at consecutive positions along that axis
 * (same outer and inner index), so point {@code q} lies in unit {@code u = q / inner} at offset
 * {@code r = q % inner}, and its component {@code d} is element {@code u*dim*inner + d*inner + r}.
 * Units run over {@code (outer, axis block)}; a unit's partition is {@code (axis block * dim) / partitionChannels}.
 *
 * @param elements          total elements (outer * axisLen * inner)
 * @param inner             elements after the clustering axis (its stride)
 * @param axisLen           length of the clustering axis
 * @param dim               values per point (cluster_dim); divides axisLen and partitionChannels
 * @param partitionChannels channels of the clustering axis per partition (each partition has its own LUT)
 */
public record DkmLayout(long elements, long inner, long axisLen, int dim, long partitionChannels) {

    public DkmLayout {
        if (inner < 1 || axisLen < 1 || dim < 1 || partitionChannels < 1 || elements < 1 || elements % (inner * axisLen) != 0) {
            throw new IllegalArgumentException("inconsistent DKM layout: elements " + elements + ", inner " + inner
                    + ", axis " + axisLen + ", dim " + dim + ", partition " + partitionChannels);
        }
        if (axisLen % dim != 0 || (partitionChannels < axisLen && partitionChannels % dim != 0)) {
            throw new IllegalArgumentException("cluster_dim " + dim + " must divide the axis length " + axisLen
                    + " and the channels per partition " + partitionChannels);
        }
    }

    public long points() {
        return elements / dim;
    }

    public int partitions() {
        return (int) ((axisLen + partitionChannels - 1) / partitionChannels);
    }

    /** Points per unit of the walk: all share one partition. */
    public long unitPoints() {
        return inner;
    }

    public long blocksPerOuter() {
        return axisLen / dim;
    }

    /** Partition of unit u. */
    public int partitionOfUnit(long u) {
        return (int) ((u % blocksPerOuter()) * dim / partitionChannels);
    }

    /** First element of component d of point q. */
    public long element(long q, int d) {
        long u = q / inner;
        return u * dim * inner + (long) d * inner + (q - u * inner);
    }

    /** Partition of element i (any component). */
    public int partitionOfElement(long i) {
        return (int) (((i / inner) % axisLen) / partitionChannels);
    }

    /** Component of element i within its point: its position along the clustering axis modulo dim. */
    public int componentOfElement(long i) {
        return (int) (((i / inner) % axisLen) % dim);
    }

    /** Points in partition p. */
    public long pointsIn(int p) {
        long c0 = p * partitionChannels;
        long c1 = Math.min(axisLen, c0 + partitionChannels);
        return (elements / (axisLen * inner)) * ((c1 - c0) / dim) * inner;
    }

    /** The j-th point of partition p (0 <= j < pointsIn(p)), as a global point index. */
    public long pointOfPartition(int p, long j) {
        long b0 = p * partitionChannels / dim;
        long b1 = Math.min(axisLen, (p + 1L) * partitionChannels) / dim;
        long perOuter = (b1 - b0) * inner;
        long o = j / perOuter;
        long rem = j - o * perOuter;
        long b = b0 + rem / inner;
        long r = rem % inner;
        return (o * blocksPerOuter() + b) * inner + r;
    }
}
