package dev.palettizer.io;

import dev.palettizer.io.SafetensorsWriter.Payload;
import dev.palettizer.io.SafetensorsWriter.Tensor;
import dev.palettizer.model.DType;
import dev.palettizer.model.Fp8;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.QuantizedLut;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The compressed model file: a safetensors file in which each palettized tensor {@code W} becomes
 * <ul>
 *   <li>{@code W.lut}: the LUTs, shape [groups, 2^nBits, clusterDim], F32, or the 8-bit codes (I8, U8,
 *       F8_E4M3, F8_E5M2) of a quantized LUT together with {@code W.lut_scale} (F32 [1]) and
 *       {@code W.lut_zero_point} (I32 [1]);</li>
 *   <li>{@code W.indices}: the packed index bit stream, U8 [bytes];</li>
 *   <li>{@code W.scales}: the per-channel scales, F32 [channels], when the spec asks for them;</li>
 *   <li>{@code W.outlier_positions} and {@code W.outlier_values} when the spec has an outlier
 *       fraction (dense-and-sparse): K = max(1, round(fraction * elements)) flat row-major element
 *       indices, strictly ascending, I32 [K] (I64 [K] for tensors of 2^31 elements or more), and the
 *       exact values at those positions in the original dtype (F32, F16 or BF16) [K]; they replace
 *       the LUT values there, whose indices point at the nearest entry;</li>
 *   <li>metadata {@code palettizer.tensor.W}: the spec, original dtype and shape, group and index
 *       counts and error statistics as compact JSON;</li>
 * </ul>
 * plus metadata {@code palettizer.format = 1}. Every other tensor is stored under its own name.
 */
public final class CompressedFormat {
    public static final String FORMAT_KEY = "palettizer.format";
    public static final String FORMAT_VERSION = "1";
    public static final String TENSOR_KEY_PREFIX = "palettizer.tensor.";

    static final String LUT = ".lut";
    static final String LUT_SCALE = ".lut_scale";
    static final String LUT_ZERO_POINT = ".lut_zero_point";
    static final String INDICES = ".indices";
    static final String SCALES = ".scales";
    private static final List<String> SUFFIXES = List.of(LUT, LUT_SCALE, LUT_ZERO_POINT, INDICES, SCALES,
            OutlierTensors.POSITIONS, OutlierTensors.VALUES);

    private CompressedFormat() {}

    /**
     * The tensors storing {@code t}: LUT (and its scale and zero point when quantized), indices, and
     * scales when present. Their payloads share {@code t}'s arrays.
     *
     * @throws IllegalArgumentException if {@code t}'s fields disagree with each other
     */
    public static List<Tensor> entriesFor(PalettizedTensor t) {
        validate(t);
        String w = t.name();
        List<Tensor> out = new ArrayList<>();
        long[] lutShape = {t.groups(), t.spec().lutSize(), t.spec().clusterDim()};
        QuantizedLut q = t.quantizedLut();
        if (q == null) {
            out.add(new Tensor(w + LUT, DType.F32, lutShape, Payload.ofFloats(t.lut())));
        } else {
            out.add(new Tensor(w + LUT, storageType(q.dtype()), lutShape, Payload.of(q.codes())));
            out.add(new Tensor(w + LUT_SCALE, DType.F32, new long[] {1}, Payload.ofFloats(q.scale())));
            out.add(new Tensor(w + LUT_ZERO_POINT, DType.I32, new long[] {1}, Payload.ofInts(q.zeroPoint())));
        }
        out.add(new Tensor(w + INDICES, DType.U8, new long[] {t.packedIndices().length}, Payload.of(t.packedIndices())));
        if (t.channelScales() != null) {
            float[] scales = t.channelScales();
            out.add(new Tensor(w + SCALES, DType.F32, new long[] {scales.length}, Payload.ofFloats(scales)));
        }
        if (t.outliers() != null) {
            long[] k = {t.outliers().count()};
            out.add(new Tensor(w + OutlierTensors.POSITIONS, OutlierTensors.positionType(t.elementCount()), k,
                    Payload.of(OutlierTensors.positionBytes(t.outliers(), t.elementCount()))));
            out.add(new Tensor(w + OutlierTensors.VALUES, t.originalDType(), k,
                    Payload.of(OutlierTensors.valueBytes(t.outliers(), t.originalDType()))));
        }
        return out;
    }

    /**
     * The metadata entries describing {@code t}, including the format version (the same for every
     * tensor, so merging several of these maps is safe).
     *
     * @throws IllegalArgumentException if {@code t}'s fields disagree with each other
     */
    public static Map<String, String> metadataFor(PalettizedTensor t) {
        validate(t);
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(FORMAT_KEY, FORMAT_VERSION);
        metadata.put(TENSOR_KEY_PREFIX + t.name(), TensorMetadata.of(t).toJson());
        return metadata;
    }

    /** Every name the format may give the tensors of palettized tensor {@code name}, used or not. */
    public static List<String> reservedNames(String name) {
        return SUFFIXES.stream().map(suffix -> name + suffix).toList();
    }

    /**
     * Reads the palettized tensors of a compressed file, with quantized LUTs dequantized.
     *
     * @throws ModelFormatException if the file is not a consistent compressed model
     */
    public static CompressedModel read(SafetensorsFile file) {
        return new CompressedReader(file).read();
    }

    /**
     * The LUT values of quantized codes: (code - zeroPoint) * scale for int8 and uint8, and
     * fp8(code) * scale for fp8, computed in float. Writers check {@code PalettizedTensor.lut} against
     * this bit for bit, so the engine must dequantize the same way.
     */
    public static float[] dequantize(QuantizedLut q) {
        return q.values();
    }

    /** The safetensors dtype holding the codes of a LUT quantized to {@code lutType}. */
    static DType storageType(LutDType lutType) {
        return switch (lutType) {
            case INT8 -> DType.I8;
            case UINT8 -> DType.U8;
            case FP8_E4M3 -> DType.F8_E4M3;
            case FP8_E5M2 -> DType.F8_E5M2;
        };
    }

    /** Bytes of a stream of {@code count} indices of {@code bits} bits, computed without overflow. */
    static long packedIndexBytes(long count, int bits) {
        return count / 8 * bits + (count % 8 * bits + 7) / 8;
    }

    /** The checks the reader makes on a file, made on the tensor before it is written. */
    private static void validate(PalettizedTensor t) {
        String prefix = "palettized tensor '" + t.name() + "': ";
        TensorMetadata.of(t).validate(detail -> new IllegalArgumentException(prefix + detail));
        long lutLength = (long) t.groups() * t.spec().lutSize() * t.spec().clusterDim();
        if (t.lut().length != lutLength) {
            throw new IllegalArgumentException(prefix + "lut holds " + t.lut().length + " values but "
                    + t.groups() + " groups of " + t.spec().lutSize() + " x " + t.spec().clusterDim() + " need " + lutLength);
        }
        LutQuantSpec qspec = t.spec().lutQuant();
        QuantizedLut q = t.quantizedLut();
        if ((qspec == null) != (q == null) || (q != null && q.dtype() != qspec.dtype())) {
            throw new IllegalArgumentException(prefix + "quantized LUT " + (q == null ? "absent" : q.dtype())
                    + " but spec lut_qspec " + (qspec == null ? "null" : qspec.dtype()));
        }
        if (q != null) {
            validateQuantized(prefix, t.lut(), q);
        }
        long indexBytes = packedIndexBytes(t.indexCount(), t.spec().nBits());
        if (t.packedIndices().length != indexBytes) {
            throw new IllegalArgumentException(prefix + "packedIndices holds " + t.packedIndices().length
                    + " bytes but " + t.indexCount() + " indices of " + t.spec().nBits() + " bits need " + indexBytes);
        }
        if ((t.channelScales() != null) != t.spec().perChannelScale()) {
            throw new IllegalArgumentException(prefix + "channelScales " + (t.channelScales() == null ? "absent" : "present")
                    + " but spec per_channel_scale is " + t.spec().perChannelScale());
        }
        OutlierTensors.validate(t, detail -> new IllegalArgumentException(prefix + detail));
    }

    /** The file keeps only the codes, so {@code lut} must be exactly what they dequantize to. */
    private static void validateQuantized(String prefix, float[] lut, QuantizedLut q) {
        if (q.codes().length != lut.length) {
            throw new IllegalArgumentException(prefix + "quantized LUT holds " + q.codes().length
                    + " codes but lut holds " + lut.length + " values");
        }
        if (!q.dtype().isInteger() && q.zeroPoint() != 0) {
            throw new IllegalArgumentException(prefix + q.dtype().cliName() + " LUT has zero point "
                    + q.zeroPoint() + "; fp8 LUTs have none");
        }
        float[] dequantized = dequantize(q);
        int mismatch = Arrays.mismatch(lut, dequantized);
        if (mismatch >= 0) {
            throw new IllegalArgumentException(prefix + "lut[" + mismatch + "] = " + lut[mismatch]
                    + " but its code dequantizes to " + dequantized[mismatch]
                    + " (use CompressedFormat.dequantize)");
        }
    }
}
