package dev.palettizer.io;

import static dev.palettizer.io.CompressedFormat.INDICES;
import static dev.palettizer.io.CompressedFormat.LUT;
import static dev.palettizer.io.CompressedFormat.LUT_SCALE;
import static dev.palettizer.io.CompressedFormat.LUT_ZERO_POINT;
import static dev.palettizer.io.CompressedFormat.SCALES;

import dev.palettizer.io.SafetensorsFile.Entry;
import dev.palettizer.model.DType;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.QuantizedLut;
import dev.palettizer.model.Shapes;
import dev.palettizer.model.SparseOutliers;
import dev.palettizer.spec.LutQuantSpec;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Rebuilds the {@link PalettizedTensor}s of one compressed file, checking entries against metadata. */
final class CompressedReader {
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE =
            ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final SafetensorsFile file;
    private final Path path;
    /** Entries used by a palettized tensor, so the rest can be classified as plain. */
    private final Set<String> consumed = new HashSet<>();

    CompressedReader(SafetensorsFile file) {
        this.file = file;
        this.path = file.path();
    }

    CompressedModel read() {
        String version = file.metadata().get(CompressedFormat.FORMAT_KEY);
        if (version == null) {
            throw new ModelFormatException(path, "metadata has no " + CompressedFormat.FORMAT_KEY
                    + ": not a palettizer compressed file");
        }
        if (!version.equals(CompressedFormat.FORMAT_VERSION)) {
            throw new ModelFormatException(path, "metadata " + CompressedFormat.FORMAT_KEY + " is '" + version
                    + "', but this version reads only " + CompressedFormat.FORMAT_VERSION);
        }
        List<PalettizedTensor> palettized = new ArrayList<>();
        for (Map.Entry<String, String> meta : file.metadata().entrySet()) {
            if (meta.getKey().startsWith(CompressedFormat.TENSOR_KEY_PREFIX)) {
                String name = meta.getKey().substring(CompressedFormat.TENSOR_KEY_PREFIX.length());
                palettized.add(tensor(name, meta.getKey(), meta.getValue()));
            }
        }
        return new CompressedModel(palettized, plainTensors(palettized));
    }

    private PalettizedTensor tensor(String name, String key, String json) {
        TensorMetadata meta = TensorMetadata.parse(json, "value",
                detail -> new ModelFormatException(path, name, "metadata " + key + ": " + detail));
        int lutSize = meta.spec().lutSize();
        int clusterDim = meta.spec().clusterDim();
        long[] lutShape = {meta.groups(), lutSize, clusterDim};
        LutQuantSpec qspec = meta.spec().lutQuant();

        float[] lut;
        QuantizedLut quantized = null;
        if (qspec == null) {
            lut = require(name + LUT, DType.F32, lutShape, key).data().toArray(F32_LE);
        } else {
            Entry codes = require(name + LUT, CompressedFormat.storageType(qspec.dtype()), lutShape, key);
            float scale = require(name + LUT_SCALE, DType.F32, new long[] {1}, key).data().get(F32_LE, 0);
            int zeroPoint = require(name + LUT_ZERO_POINT, DType.I32, new long[] {1}, key).data().get(I32_LE, 0);
            if (!qspec.dtype().isInteger() && zeroPoint != 0) {
                throw new ModelFormatException(path, name + LUT_ZERO_POINT, "zero point " + zeroPoint
                        + " but lut_qspec dtype " + qspec.dtype().cliName() + " has none (must be 0)");
            }
            quantized = new QuantizedLut(qspec.dtype(), codes.data().toArray(ValueLayout.JAVA_BYTE), scale, zeroPoint);
            lut = CompressedFormat.dequantize(quantized);
        }

        Entry indices = entry(name + INDICES, key);
        long indexBytes = CompressedFormat.packedIndexBytes(meta.indexCount(), meta.spec().nBits());
        if (indices.dtype() != DType.U8 || indices.shape().length != 1 || indices.shape()[0] != indexBytes) {
            throw new ModelFormatException(path, indices.name(), "is " + indices + " but " + key + " index_count "
                    + meta.indexCount() + " at n_bits " + meta.spec().nBits() + " needs U8[" + indexBytes + "]");
        }

        float[] scales = null;
        if (meta.spec().perChannelScale()) {
            Entry entry = entry(name + SCALES, key);
            if (entry.dtype() != DType.F32 || entry.shape().length != 1) {
                throw new ModelFormatException(path, entry.name(), "is " + entry + " but " + key
                        + " per_channel_scale needs a one-dimensional F32 tensor");
            }
            scales = entry.data().toArray(F32_LE);
        }
        return new PalettizedTensor(name, meta.spec(), meta.dtype(), meta.shape(), meta.groups(), lut, quantized,
                indices.data().toArray(ValueLayout.JAVA_BYTE), meta.indexCount(), scales, meta.error(),
                outliers(name, meta, key));
    }

    /** The exact elements when the spec has an outlier fraction; positions checked as the writer wrote them. */
    private SparseOutliers outliers(String name, TensorMetadata meta, String key) {
        long elements = Shapes.elementCount(meta.shape());
        long count = meta.spec().outlierCount(elements);
        if (count == 0) {
            return null;
        }
        long[] k = {count};
        DType positionType = OutlierTensors.positionType(elements);
        Entry positions = require(name + OutlierTensors.POSITIONS, positionType, k, key);
        Entry values = require(name + OutlierTensors.VALUES, meta.dtype(), k, key);
        SparseOutliers o = new SparseOutliers(
                OutlierTensors.positions(positions.data().toArray(ValueLayout.JAVA_BYTE), positionType),
                OutlierTensors.values(values.data().toArray(ValueLayout.JAVA_BYTE), meta.dtype()));
        String problem = o.positionProblem(elements);
        if (problem != null) {
            throw new ModelFormatException(path, positions.name(), problem);
        }
        return o;
    }

    /** The entry {@code name}, which must exist with exactly this dtype and shape. */
    private Entry require(String name, DType dtype, long[] shape, String key) {
        Entry entry = entry(name, key);
        if (entry.dtype() != dtype || !Arrays.equals(entry.shape(), shape)) {
            throw new ModelFormatException(path, name, "is " + entry + " but " + key + " needs "
                    + dtype + Arrays.toString(shape));
        }
        return entry;
    }

    private Entry entry(String name, String key) {
        Entry entry = file.tensor(name).orElseThrow(() -> new ModelFormatException(path, name,
                "missing, but metadata " + key + " needs it"));
        consumed.add(name);
        return entry;
    }

    /**
     * The entries no palettized tensor used, which must not carry a palettized tensor's own name or a
     * name the format reserves for one: the writer never produces them, so they mean a damaged file.
     */
    private List<String> plainTensors(List<PalettizedTensor> palettized) {
        Map<String, String> reservedBy = new HashMap<>();
        for (PalettizedTensor t : palettized) {
            reservedBy.put(t.name(), t.name());
            CompressedFormat.reservedNames(t.name()).forEach(n -> reservedBy.put(n, t.name()));
        }
        List<String> plain = new ArrayList<>();
        for (Entry entry : file.tensors()) {
            if (consumed.contains(entry.name())) {
                continue;
            }
            String owner = reservedBy.get(entry.name());
            if (owner != null) {
                throw new ModelFormatException(path, entry.name(), "is stored as a plain tensor but the name belongs to"
                        + " palettized tensor '" + owner + "' (metadata " + CompressedFormat.TENSOR_KEY_PREFIX + owner + ")");
            }
            plain.add(entry.name());
        }
        return plain;
    }
}
