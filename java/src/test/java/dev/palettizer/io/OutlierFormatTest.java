package dev.palettizer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.palettizer.io.SafetensorsFile.Entry;
import dev.palettizer.io.SafetensorsWriter.Payload;
import dev.palettizer.io.SafetensorsWriter.Tensor;
import dev.palettizer.model.DType;
import dev.palettizer.model.Floats;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.SparseOutliers;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.PalettizationSpec;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The outlier list in the safetensors compressed format: layout, bit-exact round trip, and damaged lists. */
class OutlierFormatTest {
    @TempDir
    Path dir;

    /** A consistent tensor of shape [12, 10] whose outliers are exact in {@code dtype}, with values of every sign. */
    static PalettizedTensor withOutliers(String name, DType dtype, double fraction) {
        PalettizationSpec spec = PalettizationSpec.defaults().withBits(3).withGranularity(Granularity.grouped(0, 4))
                .withOutlierFraction(fraction);
        PalettizedTensor t = CompressedFormatTest.sample(name, spec, dtype, new long[] {12, 10}, 3, 0, 0);
        int k = (int) spec.outlierCount(t.elementCount());
        Random random = new Random(k);
        long[] positions = random.ints(0, 120).distinct().limit(k).sorted().asLongStream().toArray();
        float[] values = new float[k];
        for (int i = 0; i < k; i++) {
            float v = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(9) - 4));
            values[i] = switch (dtype) {
                case F16 -> Float.float16ToFloat(Float.floatToFloat16(v));
                case BF16 -> Floats.fromBf16(Floats.toBf16(v));
                default -> v;
            };
        }
        values[0] = -0.0f;
        return new PalettizedTensor(t.name(), spec, dtype, t.shape(), t.groups(), t.lut(), null, t.packedIndices(),
                t.indexCount(), null, t.error(), new SparseOutliers(positions, values));
    }

    private Path write(PalettizedTensor t) throws IOException {
        Path out = dir.resolve("out.safetensors");
        new CompressedWriter().addPalettized(t).write(out);
        return out;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F16", "BF16"})
    void roundTripsBitForBitInTheInputDtype(DType dtype) throws IOException {
        PalettizedTensor t = withOutliers("layer.weight", dtype, 0.05);
        Path out = write(t);
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            Entry positions = f.tensor("layer.weight.outlier_positions").orElseThrow();
            Entry values = f.tensor("layer.weight.outlier_values").orElseThrow();
            assertEquals(DType.I32, positions.dtype());
            assertArrayEquals(new long[] {6}, positions.shape());
            assertEquals(dtype, values.dtype());
            assertArrayEquals(new long[] {6}, values.shape());
            PalettizedTensor back = CompressedFormat.read(f).palettized().getFirst();
            CompressedFormatTest.assertSameTensor(t, back);
            for (int i = 0; i < 6; i++) {
                assertEquals(Float.floatToRawIntBits(t.outliers().values()[i]),
                        Float.floatToRawIntBits(back.outliers().values()[i]), "value " + i + " bit for bit");
            }
            assertEquals(copy(t, null).compressedBytes() + 6 * (4 + dtype.byteSize()), t.compressedBytes(),
                    "the list is counted in compressedBytes");
        }
    }

    @Test
    void filesWithoutOutliersKeepTheirMetadata() throws IOException {
        PalettizedTensor t = CompressedFormatTest.floatLutGrouped();
        String json = CompressedFormat.metadataFor(t).get(CompressedFormat.TENSOR_KEY_PREFIX + t.name());
        assertEquals(-1, json.indexOf("outlier"), json);
        PalettizedTensor o = withOutliers("w", DType.F32, 0.05);
        String withList = CompressedFormat.metadataFor(o).get(CompressedFormat.TENSOR_KEY_PREFIX + "w");
        assertEquals(true, withList.contains("\"outlier_fraction\":0.05"), withList);
    }

    private ModelFormatException corruptedPositions(long... positions) throws IOException {
        PalettizedTensor t = withOutliers("w", DType.F16, 0.05);
        List<Tensor> entries = new ArrayList<>(CompressedFormat.entriesFor(t));
        int[] ints = new int[positions.length];
        for (int i = 0; i < ints.length; i++) {
            ints[i] = (int) positions[i];
        }
        entries.replaceAll(e -> e.name().equals("w.outlier_positions")
                ? new Tensor(e.name(), DType.I32, e.shape(), Payload.ofInts(ints)) : e);
        Path out = dir.resolve("bad.safetensors");
        new SafetensorsWriter().addAll(entries).putAllMetadata(new LinkedHashMap<>(CompressedFormat.metadataFor(t)))
                .write(out);
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            return assertThrows(ModelFormatException.class, () -> CompressedFormat.read(f));
        }
    }

    @Test
    void damagedPositionsNameFileTensorAndField() throws IOException {
        String prefix = dir.resolve("bad.safetensors") + ": tensor 'w.outlier_positions': ";
        assertEquals(prefix + "position[5] = 120 is outside the tensor's 120 elements",
                corruptedPositions(1, 2, 3, 4, 5, 120).getMessage());
        assertEquals(prefix + "position[3] = 3 is below position[2] = 4; positions must be strictly ascending",
                corruptedPositions(1, 2, 4, 3, 5, 6).getMessage());
        assertEquals(prefix + "position[2] = 2 repeats position[1] = 2; positions must be strictly ascending",
                corruptedPositions(1, 2, 2, 4, 5, 6).getMessage());
        assertEquals(prefix + "position[0] = -7 is outside the tensor's 120 elements",
                corruptedPositions(-7, 2, 3, 4, 5, 6).getMessage());
    }

    @Test
    void aMissingOrMisshapenListIsRefused() throws IOException {
        PalettizedTensor t = withOutliers("w", DType.BF16, 0.05);
        Path out = dir.resolve("short.safetensors");
        List<Tensor> entries = new ArrayList<>(CompressedFormat.entriesFor(t));
        entries.replaceAll(e -> e.name().equals("w.outlier_values")
                ? new Tensor(e.name(), DType.BF16, new long[] {5}, Payload.of(new byte[10])) : e);
        new SafetensorsWriter().addAll(entries).putAllMetadata(CompressedFormat.metadataFor(t)).write(out);
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(out + ": tensor 'w.outlier_values': is w.outlier_values BF16[5] but palettizer.tensor.w needs BF16[6]",
                    assertThrows(ModelFormatException.class, () -> CompressedFormat.read(f)).getMessage());
        }
        Path missing = dir.resolve("missing.safetensors");
        entries.removeIf(e -> e.name().equals("w.outlier_values"));
        new SafetensorsWriter().addAll(entries).putAllMetadata(CompressedFormat.metadataFor(t)).write(missing);
        try (SafetensorsFile f = SafetensorsFile.open(missing)) {
            assertEquals(missing + ": tensor 'w.outlier_values': missing, but metadata palettizer.tensor.w needs it",
                    assertThrows(ModelFormatException.class, () -> CompressedFormat.read(f)).getMessage());
        }
    }

    @Test
    void theWriterRefusesListsTheReaderWouldRefuse() throws IOException {
        PalettizedTensor t = withOutliers("w", DType.F16, 0.05);
        SparseOutliers o = t.outliers();
        PalettizedTensor inexact = copy(t, new SparseOutliers(o.positions(), replace(o.values(), 1, 0.1f)));
        assertEquals("palettized tensor 'w': outlier value[1] = 0.1 is not exact in F16",
                assertThrows(IllegalArgumentException.class, () -> write(inexact)).getMessage());
        PalettizedTensor fewer = copy(t, new SparseOutliers(new long[] {1}, new float[1]));
        assertEquals("palettized tensor 'w': holds 1 outliers but outlier_fraction 0.05 of 120 elements needs 6",
                assertThrows(IllegalArgumentException.class, () -> write(fewer)).getMessage());
        PalettizedTensor none = copy(t, null);
        assertEquals("palettized tensor 'w': outliers absent but spec outlier_fraction 0.05 needs 6",
                assertThrows(IllegalArgumentException.class, () -> write(none)).getMessage());
        long[] unsorted = o.positions().clone();
        unsorted[0] = unsorted[1];
        PalettizedTensor repeated = copy(t, new SparseOutliers(unsorted, o.values()));
        assertEquals(true, assertThrows(IllegalArgumentException.class, () -> write(repeated)).getMessage()
                .startsWith("palettized tensor 'w': outlier position[1] = "));
        assertEquals(List.of(), listFiles(), "nothing written");
    }

    private List<Path> listFiles() throws IOException {
        try (var s = Files.list(dir)) {
            return s.toList();
        }
    }

    private static float[] replace(float[] values, int at, float v) {
        float[] out = values.clone();
        out[at] = v;
        return out;
    }

    private static PalettizedTensor copy(PalettizedTensor t, SparseOutliers o) {
        return new PalettizedTensor(t.name(), t.spec(), t.originalDType(), t.shape(), t.groups(), t.lut(),
                t.quantizedLut(), t.packedIndices(), t.indexCount(), t.channelScales(), t.error(), o);
    }

    @Test
    void positionsAreLongBeyondTwoToTheThirtyOne() {
        assertEquals(DType.I32, OutlierTensors.positionType(Integer.MAX_VALUE));
        assertEquals(DType.I64, OutlierTensors.positionType(1L << 31));
        SparseOutliers o = new SparseOutliers(new long[] {3, 1L << 33}, new float[] {1f, -2f});
        byte[] wide = OutlierTensors.positionBytes(o, 1L << 34);
        assertEquals(16, wide.length);
        assertArrayEquals(o.positions(), OutlierTensors.positions(wide, DType.I64));
        assertEquals(1L << 33, java.lang.foreign.MemorySegment.ofArray(wide)
                .get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 8));
    }
}
