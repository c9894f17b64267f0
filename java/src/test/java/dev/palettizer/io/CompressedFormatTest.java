package dev.palettizer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.io.SafetensorsWriter.Payload;
import dev.palettizer.io.SafetensorsWriter.Tensor;
import dev.palettizer.model.DType;
import dev.palettizer.model.ErrorStats;
import dev.palettizer.model.Fp8;
import dev.palettizer.model.PalettizedTensor;
import dev.palettizer.model.QuantizedLut;
import dev.palettizer.spec.Granularity;
import dev.palettizer.spec.LutDType;
import dev.palettizer.spec.LutQuantSpec;
import dev.palettizer.spec.PalettizationSpec;
import dev.palettizer.spec.QScheme;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class CompressedFormatTest {
    @TempDir
    Path dir;

    private static final ErrorStats STATS = new ErrorStats(0.125, 3.0000000000000004, 1234.5678901234567, 32);

    /** A consistent tensor with seeded random LUT, codes, indices and scales. */
    static PalettizedTensor sample(String name, PalettizationSpec spec, DType dtype, long[] shape, int groups,
            float lutScale, int zeroPoint) {
        Random random = new Random(name.hashCode());
        int lutLength = groups * spec.lutSize() * spec.clusterDim();
        float[] lut;
        QuantizedLut quantized = null;
        if (spec.lutQuant() == null) {
            lut = new float[lutLength];
            for (int i = 0; i < lutLength; i++) {
                lut[i] = (float) random.nextGaussian();
            }
        } else {
            byte[] codes = new byte[lutLength];
            for (int i = 0; i < lutLength; i++) {
                // Keep fp8 codes finite: below the NaN/infinity codes of both formats.
                codes[i] = (byte) (spec.lutQuant().dtype().isInteger() ? random.nextInt(256) : random.nextInt(0x7B)
                        | (random.nextBoolean() ? 0x80 : 0));
            }
            quantized = new QuantizedLut(spec.lutQuant().dtype(), codes, lutScale, zeroPoint);
            lut = CompressedFormat.dequantize(quantized);
        }
        long elements = 1;
        for (long d : shape) {
            elements *= d;
        }
        long indexCount = elements / spec.clusterDim();
        byte[] packed = new byte[(int) ((indexCount * spec.nBits() + 7) / 8)];
        random.nextBytes(packed);
        float[] scales = null;
        if (spec.perChannelScale()) {
            scales = new float[(int) shape[0]];
            for (int i = 0; i < scales.length; i++) {
                scales[i] = random.nextFloat() + 0.5f;
            }
        }
        return new PalettizedTensor(name, spec, dtype, shape, groups, lut, quantized, packed, indexCount, scales, STATS);
    }

    static PalettizedTensor floatLutGrouped() {
        PalettizationSpec spec = new PalettizationSpec(2, null, Granularity.grouped(0, 4), 1, false);
        return sample("model.layers.0.q_proj.weight", spec, DType.F32, new long[] {8, 4}, 2, 0, 0);
    }

    static Stream<PalettizedTensor> samples() {
        PalettizationSpec base = PalettizationSpec.defaults();
        return Stream.of(
                floatLutGrouped(),
                sample("int8", base.withBits(3).withPerChannelScale(true)
                                .withLutQuant(new LutQuantSpec(LutDType.INT8, QScheme.SYMMETRIC)),
                        DType.BF16, new long[] {5, 3}, 1, 0.0123f, 0),
                sample("uint8", base.withLutQuant(new LutQuantSpec(LutDType.UINT8, QScheme.ASYMMETRIC)),
                        DType.F16, new long[] {7}, 1, 1.5e-3f, 131),
                sample("e4m3", base.withClusterDim(2).withLutQuant(new LutQuantSpec(LutDType.FP8_E4M3, QScheme.SYMMETRIC)),
                        DType.F32, new long[] {4, 6}, 1, 0.5f, 0),
                sample("e5m2", base.withBits(1).withGranularity(Granularity.perChannel(1))
                                .withLutQuant(new LutQuantSpec(LutDType.FP8_E5M2, QScheme.SYMMETRIC)).withPerChannelScale(true),
                        DType.F32, new long[] {3, 5}, 5, 3e-4f, 0),
                sample("six", base.withBits(6).withGranularity(Granularity.grouped(1, 2)), DType.F32,
                        new long[] {2, 5, 3, 3}, 3, 0, 0),
                sample("eight", base.withBits(8).withClusterDim(4), DType.F32, new long[] {16, 8}, 1, 0, 0),
                sample("ragged", base.withBits(3).withGranularity(Granularity.groupedRagged(4)).withPerChannelScale(true),
                        DType.F16, new long[] {10, 3}, 3, 0, 0));
    }

    static void assertSameTensor(PalettizedTensor expected, PalettizedTensor actual) {
        assertEquals(expected.name(), actual.name());
        assertEquals(expected.spec(), actual.spec());
        assertEquals(expected.originalDType(), actual.originalDType());
        assertArrayEquals(expected.shape(), actual.shape());
        assertEquals(expected.groups(), actual.groups());
        assertArrayEquals(expected.lut(), actual.lut());
        if (expected.quantizedLut() == null) {
            assertNull(actual.quantizedLut());
        } else {
            assertEquals(expected.quantizedLut().dtype(), actual.quantizedLut().dtype());
            assertArrayEquals(expected.quantizedLut().codes(), actual.quantizedLut().codes());
            assertEquals(expected.quantizedLut().scale(), actual.quantizedLut().scale());
            assertEquals(expected.quantizedLut().zeroPoint(), actual.quantizedLut().zeroPoint());
        }
        assertArrayEquals(expected.packedIndices(), actual.packedIndices());
        assertEquals(expected.indexCount(), actual.indexCount());
        assertArrayEquals(expected.channelScales(), actual.channelScales());
        assertEquals(expected.error(), actual.error());
    }

    private PalettizedTensor roundTrip(PalettizedTensor t) throws IOException {
        Path out = dir.resolve("one.safetensors");
        new CompressedWriter().addPalettized(t).write(out);
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            CompressedModel model = CompressedFormat.read(f);
            assertEquals(List.of(), model.plainTensors());
            assertEquals(1, model.palettized().size());
            return model.palettized().getFirst();
        }
    }

    @ParameterizedTest
    @MethodSource("samples")
    void roundTripsEveryField(PalettizedTensor t) throws IOException {
        assertSameTensor(t, roundTrip(t));
    }

    @Test
    void storesTheDocumentedEntriesAndMetadata() throws IOException {
        PalettizedTensor t = floatLutGrouped();
        Path out = dir.resolve("c.safetensors");
        new CompressedWriter().addPalettized(t).write(out);
        String w = t.name();
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(List.of(w + ".lut", w + ".indices"), f.tensors().stream().map(SafetensorsFile.Entry::name).toList());
            assertEquals(DType.F32, f.tensor(w + ".lut").orElseThrow().dtype());
            assertArrayEquals(new long[] {2, 4, 1}, f.tensor(w + ".lut").orElseThrow().shape());
            assertEquals(DType.U8, f.tensor(w + ".indices").orElseThrow().dtype());
            assertArrayEquals(new long[] {8}, f.tensor(w + ".indices").orElseThrow().shape());
            assertEquals(Map.of(
                    "palettizer.format", "1",
                    "palettizer.tensor." + w, "{\"n_bits\":2,\"granularity\":{\"type\":\"per_grouped_channel\",\"axis\":0,"
                            + "\"group_size\":4},\"cluster_dim\":1,\"per_channel_scale\":false,\"lut_qspec\":null,"
                            + "\"dtype\":\"F32\",\"shape\":[8,4],\"groups\":2,\"index_count\":32,\"sse\":0.125,"
                            + "\"weighted_sse\":3.0000000000000004,\"signal_energy\":1234.5678901234567,\"count\":32}"),
                    f.metadata());
        }
    }

    /** The flag is stored only when set (files without it read as before) and must be a boolean on axis 0. */
    @Test
    void aRaggedLastGroupIsRecordedInTheGranularity() throws IOException {
        PalettizedTensor t = samples().filter(s -> s.name().equals("ragged")).findFirst().orElseThrow();
        Path out = dir.resolve("r.safetensors");
        new CompressedWriter().addPalettized(t).write(out);
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertTrue(f.metadata().get("palettizer.tensor.ragged").contains("\"granularity\":{\"type\":"
                    + "\"per_grouped_channel\",\"axis\":0,\"group_size\":4,\"ragged_last_group\":true}"),
                    f.metadata().get("palettizer.tensor.ragged"));
        }
        String prefix = dir.resolve("bad.safetensors") + ": tensor 'ragged': metadata palettizer.tensor.ragged: ";
        assertEquals(prefix + "ragged_last_group must be true or false, got 1",
                corruptedJson(t, j -> j.replace("\"ragged_last_group\":true", "\"ragged_last_group\":1")).getMessage());
        assertTrue(corruptedJson(t, j -> j.replace("\"axis\":0", "\"axis\":1")).getMessage()
                .contains("a ragged last group is not supported along axis 1"));
    }

    @Test
    void quantizedLutEntries() {
        PalettizedTensor t = samples().filter(s -> s.name().equals("int8")).findFirst().orElseThrow();
        List<Tensor> entries = CompressedFormat.entriesFor(t);
        assertEquals(List.of("int8.lut I8[1, 8, 1]", "int8.lut_scale F32[1]", "int8.lut_zero_point I32[1]",
                "int8.indices U8[6]", "int8.scales F32[5]"), entries.stream().map(Tensor::toString).toList());
        assertTrue(CompressedFormat.metadataFor(t).get("palettizer.tensor.int8")
                .contains("\"per_channel_scale\":true,\"lut_qspec\":{\"dtype\":\"int8\",\"qscheme\":\"symmetric\"}"));
    }

    @Test
    void dequantizeFollowsTheFormulas() {
        assertArrayEquals(new float[] {-3 * 0.5f, 127 * 0.5f, -128 * 0.5f},
                CompressedFormat.dequantize(new QuantizedLut(LutDType.INT8, new byte[] {-3, 127, -128}, 0.5f, 0)));
        assertArrayEquals(new float[] {(255 - 128) * 0.25f, (0 - 128) * 0.25f, (7 - 128) * 0.25f},
                CompressedFormat.dequantize(new QuantizedLut(LutDType.UINT8, new byte[] {-1, 0, 7}, 0.25f, 128)));
        assertArrayEquals(new float[] {2f, -896f},
                CompressedFormat.dequantize(new QuantizedLut(LutDType.FP8_E4M3, new byte[] {0x38, (byte) 0xFE}, 2f, 0)));
        assertArrayEquals(new float[] {3f, 57344f * 3f},
                CompressedFormat.dequantize(new QuantizedLut(LutDType.FP8_E5M2, new byte[] {0x3C, 0x7B}, 3f, 0)));
    }

    @Test
    void writesPalettizedAndCopiedTensorsTogether() throws IOException {
        Path in = dir.resolve("in.safetensors");
        new SafetensorsWriter()
                .add(new Tensor("embed", DType.F16, new long[] {2}, Payload.of(RawFiles.f16(1f, 2f))))
                .add(new Tensor("norm", DType.F32, new long[] {3}, Payload.ofFloats(4f, 5f, 6f)))
                .write(in);
        List<PalettizedTensor> palettized = samples().toList();
        Path out = dir.resolve("out.safetensors");
        try (SafetensorsFile input = SafetensorsFile.open(in)) {
            CompressedWriter writer = new CompressedWriter().forbidOverwriting(in).putMetadata("source", "unit test");
            writer.addPlain(Tensor.copyOf(input.tensor("embed").orElseThrow()));
            palettized.forEach(writer::addPalettized);
            writer.addPlain(Tensor.copyOf(input.tensor("norm").orElseThrow()));
            writer.write(out);
        }
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            CompressedModel model = CompressedFormat.read(f);
            assertEquals(List.of("embed", "norm"), model.plainTensors());
            assertEquals(palettized.size(), model.palettized().size());
            for (PalettizedTensor t : palettized) {
                assertSameTensor(t, model.palettized(t.name()).orElseThrow());
            }
            float[] norm = new float[3];
            f.tensor("norm").orElseThrow().floats().read(0, norm, 0, 3);
            assertArrayEquals(new float[] {4f, 5f, 6f}, norm);
            assertEquals("unit test", f.metadata().get("source"));
        }
    }

    // ---- writer-side checks ----

    @Test
    void plainNamesMayNotCollideWithGeneratedNames() {
        PalettizedTensor t = floatLutGrouped();
        String w = t.name();
        Tensor plainLut = new Tensor(w + ".lut", DType.U8, new long[] {1}, Payload.of(new byte[1]));
        IllegalArgumentException after = assertThrows(IllegalArgumentException.class,
                () -> new CompressedWriter().addPalettized(t).addPlain(plainLut));
        assertEquals("tensor name '" + w + ".lut' collides with palettized tensor '" + w + "', whose stored tensors are named ["
                + w + ".lut, " + w + ".lut_scale, " + w + ".lut_zero_point, " + w + ".indices, " + w + ".scales]",
                after.getMessage());
        // An unused reserved name (no scales here) and the palettized name itself, added before the tensor.
        for (String name : List.of(w + ".scales", w)) {
            Tensor plain = new Tensor(name, DType.U8, new long[] {1}, Payload.of(new byte[1]));
            CompressedWriter writer = new CompressedWriter().addPlain(plain);
            IllegalArgumentException before = assertThrows(IllegalArgumentException.class, () -> writer.addPalettized(t));
            assertTrue(before.getMessage().startsWith("tensor name '" + name + "' collides"), before.getMessage());
        }
        assertThrows(IllegalArgumentException.class,
                () -> new CompressedWriter().putMetadata(CompressedFormat.FORMAT_KEY, "2"));
    }

    private static PalettizedTensor with(PalettizedTensor t, float[] lut, byte[] packed, float[] scales) {
        return new PalettizedTensor(t.name(), t.spec(), t.originalDType(), t.shape(), t.groups(), lut,
                t.quantizedLut(), packed, t.indexCount(), scales, t.error());
    }

    @Test
    void inconsistentTensorsAreRefusedBeforeWriting() {
        PalettizedTensor t = floatLutGrouped();
        String prefix = "palettized tensor '" + t.name() + "': ";
        assertEquals(prefix + "lut holds 7 values but 2 groups of 4 x 1 need 8", assertThrows(IllegalArgumentException.class,
                () -> CompressedFormat.entriesFor(with(t, new float[7], t.packedIndices(), null))).getMessage());
        assertEquals(prefix + "packedIndices holds 9 bytes but 32 indices of 2 bits need 8",
                assertThrows(IllegalArgumentException.class,
                        () -> CompressedFormat.entriesFor(with(t, t.lut(), new byte[9], null))).getMessage());
        assertEquals(prefix + "channelScales present but spec per_channel_scale is false",
                assertThrows(IllegalArgumentException.class,
                        () -> CompressedFormat.entriesFor(with(t, t.lut(), t.packedIndices(), new float[8]))).getMessage());
        PalettizedTensor wrongGroups = new PalettizedTensor(t.name(), t.spec(), t.originalDType(), t.shape(), 1,
                new float[4], null, t.packedIndices(), t.indexCount(), null, t.error());
        assertEquals(prefix + "groups 1 but granularity {\"type\":\"per_grouped_channel\",\"axis\":0,\"group_size\":4}"
                + " over shape [8, 4] makes 2", assertThrows(IllegalArgumentException.class,
                        () -> CompressedFormat.metadataFor(wrongGroups)).getMessage());
    }

    @Test
    void aQuantizedLutMustEqualItsDequantizedCodes() {
        PalettizedTensor t = samples().filter(s -> s.name().equals("e4m3")).findFirst().orElseThrow();
        float[] lut = t.lut().clone();
        lut[3] = Math.nextUp(lut[3]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CompressedFormat.entriesFor(with(t, lut, t.packedIndices(), null)));
        assertTrue(e.getMessage().startsWith("palettized tensor 'e4m3': lut[3] = "), e.getMessage());
    }

    // ---- reader-side checks ----

    /** Writes {@code t} with its entries and metadata edited, then reads it back expecting a refusal. */
    private ModelFormatException corrupted(PalettizedTensor t, UnaryOperator<List<Tensor>> entries,
            UnaryOperator<Map<String, String>> metadata) throws IOException {
        Path out = dir.resolve("bad.safetensors");
        new SafetensorsWriter()
                .addAll(entries.apply(new ArrayList<>(CompressedFormat.entriesFor(t))))
                .putAllMetadata(metadata.apply(new LinkedHashMap<>(CompressedFormat.metadataFor(t))))
                .write(out);
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> CompressedFormat.read(f));
            assertTrue(e.getMessage().startsWith(out + ": "), e.getMessage());
            return e;
        }
    }

    private ModelFormatException corruptedJson(PalettizedTensor t, UnaryOperator<String> edit) throws IOException {
        String key = "palettizer.tensor." + t.name();
        return corrupted(t, e -> e, m -> {
            m.put(key, edit.apply(m.get(key)));
            return m;
        });
    }

    private static UnaryOperator<List<Tensor>> replacing(String name, Tensor replacement) {
        return entries -> {
            entries.replaceAll(e -> e.name().equals(name) ? replacement : e);
            return entries;
        };
    }

    private static UnaryOperator<List<Tensor>> removing(String name) {
        return entries -> {
            entries.removeIf(e -> e.name().equals(name));
            return entries;
        };
    }

    @Test
    void formatVersionIsRequired() throws IOException {
        PalettizedTensor t = floatLutGrouped();
        Path out = dir.resolve("bad.safetensors");
        assertTrue(corrupted(t, e -> e, m -> {
            m.remove(CompressedFormat.FORMAT_KEY);
            return m;
        }).getMessage().endsWith("metadata has no palettizer.format: not a palettizer compressed file"));
        assertEquals(out + ": metadata palettizer.format is '2', but this version reads only 1", corrupted(t, e -> e, m -> {
            m.put(CompressedFormat.FORMAT_KEY, "2");
            return m;
        }).getMessage());
    }

    @Test
    void missingEntriesAreNamed() throws IOException {
        PalettizedTensor t = floatLutGrouped();
        String w = t.name();
        assertEquals(dir.resolve("bad.safetensors") + ": tensor '" + w + ".indices': missing, but metadata palettizer.tensor."
                + w + " needs it", corrupted(t, removing(w + ".indices"), m -> m).getMessage());
        assertTrue(corrupted(t, removing(w + ".lut"), m -> m).getMessage().contains("tensor '" + w + ".lut': missing"));
        PalettizedTensor scaled = samples().filter(s -> s.name().equals("int8")).findFirst().orElseThrow();
        assertTrue(corrupted(scaled, removing("int8.scales"), m -> m).getMessage()
                .contains("tensor 'int8.scales': missing, but metadata palettizer.tensor.int8 needs it"));
        assertTrue(corrupted(scaled, removing("int8.lut_zero_point"), m -> m).getMessage()
                .contains("tensor 'int8.lut_zero_point': missing"));
    }

    @Test
    void entriesMustMatchTheMetadata() throws IOException {
        PalettizedTensor t = floatLutGrouped();
        String w = t.name();
        assertTrue(corrupted(t, replacing(w + ".lut", new Tensor(w + ".lut", DType.F32, new long[] {1, 8, 1},
                Payload.ofFloats(t.lut()))), m -> m).getMessage().endsWith("tensor '" + w + ".lut': is " + w
                + ".lut F32[1, 8, 1] but palettizer.tensor." + w + " needs F32[2, 4, 1]"));
        assertTrue(corrupted(t, replacing(w + ".indices", new Tensor(w + ".indices", DType.U8, new long[] {7},
                Payload.of(new byte[7]))), m -> m).getMessage().endsWith("tensor '" + w + ".indices': is " + w
                + ".indices U8[7] but palettizer.tensor." + w + " index_count 32 at n_bits 2 needs U8[8]"));
        assertTrue(corrupted(t, replacing(w + ".indices", new Tensor(w + ".indices", DType.I8, new long[] {8},
                Payload.of(new byte[8]))), m -> m).getMessage().contains("needs U8[8]"));

        PalettizedTensor q = samples().filter(s -> s.name().equals("int8")).findFirst().orElseThrow();
        assertTrue(corrupted(q, replacing("int8.lut", new Tensor("int8.lut", DType.U8, new long[] {1, 8, 1},
                Payload.of(q.quantizedLut().codes()))), m -> m).getMessage()
                .endsWith("tensor 'int8.lut': is int8.lut U8[1, 8, 1] but palettizer.tensor.int8 needs I8[1, 8, 1]"));
        assertTrue(corrupted(q, replacing("int8.scales", new Tensor("int8.scales", DType.F32, new long[] {5, 1},
                Payload.ofFloats(q.channelScales()))), m -> m).getMessage()
                .contains("tensor 'int8.scales': is int8.scales F32[5, 1] but palettizer.tensor.int8 per_channel_scale"));

        PalettizedTensor fp8 = samples().filter(s -> s.name().equals("e4m3")).findFirst().orElseThrow();
        assertTrue(corrupted(fp8, replacing("e4m3.lut_zero_point", new Tensor("e4m3.lut_zero_point", DType.I32,
                new long[] {1}, Payload.ofInts(3))), m -> m).getMessage()
                .endsWith("tensor 'e4m3.lut_zero_point': zero point 3 but lut_qspec dtype fp8_e4m3 has none (must be 0)"));
    }

    @Test
    void badMetadataJsonNamesTheTensorAndField() throws IOException {
        PalettizedTensor t = floatLutGrouped();
        String prefix = dir.resolve("bad.safetensors") + ": tensor '" + t.name() + "': metadata palettizer.tensor." + t.name() + ": ";
        assertTrue(corruptedJson(t, j -> j.substring(0, 10)).getMessage().startsWith(prefix + "value is not valid JSON at line 1"));
        assertEquals(prefix + "value must be a JSON object, got array", corruptedJson(t, j -> "[" + j + "]").getMessage());
        assertEquals(prefix + "unknown field 'bias' (allowed: n_bits, granularity, cluster_dim, per_channel_scale,"
                + " lut_qspec, dtype, shape, groups, index_count, sse, weighted_sse, signal_energy, count)",
                corruptedJson(t, j -> j.replace("{\"n_bits\"", "{\"bias\":1,\"n_bits\"")).getMessage());
        assertEquals(prefix + "missing field 'index_count'",
                corruptedJson(t, j -> j.replace("\"index_count\":32,", "")).getMessage());
        assertEquals(prefix + "n_bits must be one of {1, 2, 3, 4, 6, 8}, got 5",
                corruptedJson(t, j -> j.replace("\"n_bits\":2", "\"n_bits\":5")).getMessage());
        assertEquals(prefix + "granularity.type must be per_tensor or per_grouped_channel, got 'per_block'",
                corruptedJson(t, j -> j.replace("per_grouped_channel", "per_block")).getMessage());
        assertEquals(prefix + "unknown field 'axis' (allowed: type)",
                corruptedJson(t, j -> j.replace("per_grouped_channel", "per_tensor")).getMessage());
        assertEquals(prefix + "lut_qspec.dtype must be one of {int8, uint8, fp8_e4m3, fp8_e5m2}, got 'int4'",
                corruptedJson(t, j -> j.replace("\"lut_qspec\":null", "\"lut_qspec\":{\"dtype\":\"int4\",\"qscheme\":\"symmetric\"}"))
                        .getMessage());
        assertEquals(prefix + "dtype I32 cannot have been palettized (only F32, F16 and BF16 can)",
                corruptedJson(t, j -> j.replace("\"dtype\":\"F32\"", "\"dtype\":\"I32\"")).getMessage());
        assertEquals(prefix + "index_count 31 is not the 32 elements of shape [8, 4] divided by cluster_dim 1",
                corruptedJson(t, j -> j.replace("\"index_count\":32", "\"index_count\":31")).getMessage());
        assertEquals(prefix + "groups 3 but granularity {\"type\":\"per_grouped_channel\",\"axis\":0,\"group_size\":4}"
                + " over shape [8, 4] makes 2", corruptedJson(t, j -> j.replace("\"groups\":2", "\"groups\":3")).getMessage());
        assertEquals(prefix + "sse must be a number, got \"0.125\"",
                corruptedJson(t, j -> j.replace("\"sse\":0.125", "\"sse\":\"0.125\"")).getMessage());
        assertEquals(prefix + "per_channel_scale must be true or false, got 0",
                corruptedJson(t, j -> j.replace("\"per_channel_scale\":false", "\"per_channel_scale\":0")).getMessage());
    }

    @Test
    void reservedNamesCannotBePlainTensors() throws IOException {
        PalettizedTensor t = floatLutGrouped();
        String w = t.name();
        UnaryOperator<List<Tensor>> addScales = entries -> {
            entries.add(new Tensor(w + ".scales", DType.F32, new long[] {1}, Payload.ofFloats(1f)));
            return entries;
        };
        assertTrue(corrupted(t, addScales, m -> m).getMessage().endsWith("tensor '" + w + ".scales': is stored as a plain"
                + " tensor but the name belongs to palettized tensor '" + w + "' (metadata palettizer.tensor." + w + ")"));
        UnaryOperator<List<Tensor>> addItself = entries -> {
            entries.add(new Tensor(w, DType.F32, new long[] {8, 4}, Payload.ofFloats(new float[32])));
            return entries;
        };
        assertTrue(corrupted(t, addItself, m -> m).getMessage().contains("tensor '" + w + "': is stored as a plain tensor"));
    }

    @Test
    void fp8CodesRoundTripThroughTheCodec() throws IOException {
        // LUT values chosen by the engine as fp8(value / scale) must come back exactly as dequantized.
        float scale = 0.01f;
        float[] wanted = {-1.3f, 0f, 0.02f, 4.47f};
        byte[] codes = new byte[16];
        for (int i = 0; i < wanted.length; i++) {
            codes[i] = Fp8.encodeE4M3(wanted[i] / scale);
        }
        QuantizedLut q = new QuantizedLut(LutDType.FP8_E4M3, codes, scale, 0);
        PalettizationSpec spec = PalettizationSpec.defaults()
                .withLutQuant(new LutQuantSpec(LutDType.FP8_E4M3, QScheme.SYMMETRIC));
        PalettizedTensor t = new PalettizedTensor("w", spec, DType.F32, new long[] {4}, 1, CompressedFormat.dequantize(q),
                q, new byte[2], 4, null, ErrorStats.ZERO);
        PalettizedTensor back = roundTrip(t);
        assertSameTensor(t, back);
        assertEquals(-1.3f, back.lut()[0], 0.04f);
        assertEquals(4.47f, back.lut()[3], 0.1f);
    }
}
