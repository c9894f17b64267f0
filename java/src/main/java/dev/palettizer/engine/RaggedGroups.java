package dev.palettizer.engine;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.ClusterInput;
import dev.palettizer.kmeans.LutQuantizer;
import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.FloatSource;
import dev.palettizer.model.GroupLayout;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.QuantizedLut;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.util.Arrays;
import java.util.Optional;

/**
 * Palettizes a tensor whose last group is smaller than the others ({@link GroupLayout#ragged()}):
 * the full groups as a plain grouped run over the first rows, the last group as a per-tensor run
 * over the remaining rows, then one tensor joining both. Along axis 0 each part is a contiguous
 * block of whole rows and of index positions, so the joined LUTs, indices and channel scales are
 * the parts' back to back.
 *
 * <p>Why here and not in the backends: their kernels and host walks (histogram segments, centroid
 * slots, pal_layout) assume groups of one size. Splitting keeps every backend on the plain layouts
 * it is tested with, and each part equals a run on its rows alone, bit for bit.
 *
 * <p>A quantized LUT has one scale for the whole tensor: the parts are clustered with float LUTs,
 * the joined LUT is quantized once, and every part's indices are assigned again against it, as a
 * plain run assigns its final indices after quantizing.
 */
final class RaggedGroups {
    private RaggedGroups() {}

    static Outcome palettize(TensorPalettizer palettizer, Backend backend, TensorInput t, PalettizationSpec spec,
                             ClusterMode mode, GroupLayout layout) {
        long started = System.nanoTime();
        // Scanned whole first, so a bad element is reported at its place in the tensor, not in a part.
        InputScan.of(t, layout.rows());
        PalettizationSpec floatLuts = spec.withLutQuant(null);
        Optional<GroupLayout> prefixLayout = layout.prefix();
        GroupLayout tailLayout = layout.tail();
        long split = layout.prefixRows() * layout.rowStride();
        PalettizationSpec fullGroups = floatLuts.withGranularity(Granularity.grouped(0, Math.toIntExact(layout.groupSize())));
        Part prefix = prefixLayout.map(l -> Part.run(palettizer, mode, part(t, 0, l), fullGroups, l)).orElse(null);
        // With no full group (fewer rows than group_size) the tail is the whole tensor.
        PalettizationSpec oneGroup = floatLuts.withGranularity(Granularity.perTensor());
        Part tail = Part.run(palettizer, mode, part(t, split, tailLayout), oneGroup, tailLayout);

        int lutSize = spec.lutSize();
        float[] lut = concat(prefix == null ? new float[0] : prefix.tensor.lut(), tail.tensor.lut());
        byte[] indices = new byte[Math.toIntExact(layout.vectorCount())];
        int tailFirst = Math.toIntExact(split / layout.clusterDim());
        QuantizedLut quantized = null;
        ErrorStats error;
        if (spec.lutQuant() == null) {
            error = tail.tensor.error();
            if (prefix != null) {
                prefix.unpackInto(backend, indices, 0);
                error = prefix.tensor.error().plus(error);
            }
            tail.unpackInto(backend, indices, tailFirst);
        } else {
            quantized = LutQuantizer.quantize(lut, spec.lutQuant());
            lut = quantized.values();
            int tailLut = lut.length - lutSize * layout.clusterDim();
            error = tail.assign(backend, lut, tailLut, lutSize, indices, tailFirst);
            if (prefix != null) {
                error = prefix.assign(backend, lut, 0, lutSize, indices, 0).plus(error);
            }
        }
        float[] scales = spec.perChannelScale()
                ? concat(prefix == null ? new float[0] : prefix.tensor.channelScales(), tail.tensor.channelScales())
                : null;
        byte[] packed = backend.pack(indices, indices.length, spec.nBits());
        PalettizedTensor out = new PalettizedTensor(t.name(), spec, t.dtype(), t.shape().clone(), layout.groups(), lut,
                quantized, packed, indices.length, scales, error);
        String note = prefix != null && prefix.note != null ? prefix.note : tail.note;
        return new Outcome.Palettized(out, (System.nanoTime() - started) / 1e9, note);
    }

    /**
     * Dense values of any layout from its LUT, indices and channel scales; a ragged one is rebuilt
     * part by part, so that the backend sees plain layouts only.
     */
    static float[] reconstruct(Backend backend, GroupLayout layout, float[] lut, int lutSize, byte[] indices,
                               float[] scales) {
        if (!layout.ragged()) {
            return backend.reconstruct(layout, lut, lutSize, indices, scales);
        }
        int cd = layout.clusterDim();
        int prefixRows = Math.toIntExact(layout.prefixRows());
        int tailLut = lut.length - lutSize * cd;
        int tailFirst = Math.toIntExact(layout.prefixRows() * layout.rowStride() / cd);
        float[] tail = backend.reconstruct(layout.tail(), Arrays.copyOfRange(lut, tailLut, lut.length), lutSize,
                Arrays.copyOfRange(indices, tailFirst, indices.length),
                scales == null ? null : Arrays.copyOfRange(scales, prefixRows, scales.length));
        if (prefixRows == 0) {
            return tail;
        }
        float[] prefix = backend.reconstruct(layout.prefix().orElseThrow(), Arrays.copyOf(lut, tailLut), lutSize,
                Arrays.copyOf(indices, tailFirst), scales == null ? null : Arrays.copyOf(scales, prefixRows));
        return concat(prefix, tail);
    }

    /** One part's run, with its input kept for assigning again against a joined quantized LUT. */
    private record Part(TensorInput input, GroupLayout layout, PalettizedTensor tensor, String note) {
        static Part run(TensorPalettizer palettizer, ClusterMode mode, TensorInput input, PalettizationSpec spec,
                        GroupLayout layout) {
            return switch (palettizer.palettize(input, spec, mode)) {
                case Outcome.Palettized p -> new Part(input, layout, p.tensor(), p.note());
                // Unreachable: the parts' layouts are plain and their row counts multiples of cluster_dim.
                case Outcome.Skipped s -> throw new IllegalStateException("tensor '" + input.name()
                        + "': a part of its ragged groups was skipped: " + s.reason());
            };
        }

        void unpackInto(Backend backend, byte[] indices, int first) {
            byte[] own = backend.unpack(tensor.packedIndices(), tensor.indexCount(), tensor.spec().nBits());
            System.arraycopy(own, 0, indices, first, own.length);
        }

        /** Assigns this part's vectors against its groups of {@code lut} (from {@code lutFrom}). */
        ErrorStats assign(Backend backend, float[] lut, int lutFrom, int lutSize, byte[] indices, int first) {
            float[] own = Arrays.copyOfRange(lut, lutFrom, lutFrom + tensor.lut().length);
            ClusterInput in = new ClusterInput(input.values(), input.sensitivities(), layout, tensor.channelScales());
            byte[] partIndices = new byte[Math.toIntExact(tensor.indexCount())];
            ErrorStats error = backend.assign(in, own, lutSize, partIndices);
            System.arraycopy(partIndices, 0, indices, first, partIndices.length);
            return error;
        }
    }

    /** The rows of {@code t} from element {@code from} that {@code l} covers, under the same name. */
    private static TensorInput part(TensorInput t, long from, GroupLayout l) {
        long[] shape = t.shape().clone();
        if (shape.length > 0) {
            shape[0] = l.rows();
        }
        long size = l.elementCount();
        FloatSource s = t.sensitivities();
        return new TensorInput(t.name(), t.dtype(), shape, new Rows(t.values(), from, size),
                s == null ? null : new Rows(s, from, size));
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * Elements [from, from + size) of {@code source}. Releasing it does nothing: the whole tensor
     * is released once, after both parts.
     */
    private record Rows(FloatSource source, long from, long size) implements FloatSource {
        @Override
        public void read(long offset, float[] dst, int dstOff, int len) {
            source.read(from + offset, dst, dstOff, len);
        }
    }
}
