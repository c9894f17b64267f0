package dev.palettizer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.model.DType;
import dev.palettizer.model.FloatSource;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Reading hand-made files: the valid ones as written, every malformed one refused with a precise message. */
class SafetensorsFileTest {
    @TempDir
    Path dir;

    private static float[] read(FloatSource source) {
        float[] out = new float[Math.toIntExact(source.size())];
        source.read(0, out, 0, out.length);
        return out;
    }

    @Test
    void readsTensorsInHeaderOrderWithTheirData() throws IOException {
        byte[] data = concat(RawFiles.f32(1.5f, -2f, 3.25f, 0f, 7f, -0.5f), RawFiles.f16(0.5f, -65504f),
                RawFiles.bf16(1f, -3f, 256f), RawFiles.i64(Long.MIN_VALUE, 42));
        Path file = RawFiles.write(dir.resolve("m.safetensors"), """
                {"__metadata__":{"format":"pt","note":"ü"},
                 "z.f32":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},
                 "a.f16":{"dtype":"F16","shape":[2],"data_offsets":[24,28]},
                 "m.bf16":{"dtype":"BF16","shape":[3],"data_offsets":[28,34]},
                 "ids":{"dtype":"I64","shape":[2],"data_offsets":[34,50]}}""", data);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(file, f.path());
            assertEquals(List.of("z.f32", "a.f16", "m.bf16", "ids"),
                    f.tensors().stream().map(SafetensorsFile.Entry::name).toList());
            assertEquals(Map.of("format", "pt", "note", "ü"), f.metadata());

            SafetensorsFile.Entry z = f.tensor("z.f32").orElseThrow();
            assertEquals(DType.F32, z.dtype());
            assertArrayEquals(new long[] {2, 3}, z.shape());
            assertEquals(6, z.elementCount());
            assertArrayEquals(new float[] {1.5f, -2f, 3.25f, 0f, 7f, -0.5f}, read(z.floats()));
            assertArrayEquals(new float[] {0.5f, -65504f}, read(f.tensor("a.f16").orElseThrow().floats()));
            assertArrayEquals(new float[] {1f, -3f, 256f}, read(f.tensor("m.bf16").orElseThrow().floats()));

            SafetensorsFile.Entry ids = f.tensor("ids").orElseThrow();
            assertEquals(16, ids.data().byteSize());
            assertEquals(Long.MIN_VALUE, ids.data().get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
            assertTrue(ids.data().isReadOnly());
            assertTrue(f.tensor("missing").isEmpty());
        }
    }

    @Test
    void acceptsScalarsEmptyTensorsAndNoMetadata() throws IOException {
        Path file = RawFiles.write(dir.resolve("m.safetensors"), """
                {"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},
                 "e":{"dtype":"F16","shape":[0,3],"data_offsets":[4,4]},
                 "e2":{"dtype":"I8","shape":[3,0],"data_offsets":[4,4]}}  \s""", RawFiles.f32(9f));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            SafetensorsFile.Entry scalar = f.tensor("s").orElseThrow();
            assertEquals(0, scalar.shape().length);
            assertEquals(1, scalar.elementCount());
            assertArrayEquals(new float[] {9f}, read(scalar.floats()));
            assertEquals(0, f.tensor("e").orElseThrow().elementCount());
            assertEquals(0, f.tensor("e2").orElseThrow().data().byteSize());
            assertEquals(Map.of(), f.metadata());
        }
    }

    @Test
    void refusesToReadIntegersAsFloats() throws IOException {
        Path file = RawFiles.write(dir.resolve("ints.safetensors"),
                "{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", RawFiles.i64(1));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            SafetensorsFile.Entry ids = f.tensor("ids").orElseThrow();
            ModelFormatException e = assertThrows(ModelFormatException.class, ids::floats);
            assertEquals(file + ": tensor 'ids': dtype I64 cannot be read as floats (only F32, F16 and BF16 can)",
                    e.getMessage());
        }
    }

    @Test
    void closingTwiceIsHarmlessAndUnmaps() throws IOException {
        Path file = RawFiles.write(dir.resolve("m.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", RawFiles.f32(1f));
        SafetensorsFile f = SafetensorsFile.open(file);
        SafetensorsFile.Entry a = f.tensors().getFirst();
        f.close();
        f.close();
        assertFalse(a.data().scope().isAlive());
    }

    @Test
    void entryShapeCannotBeChangedFromOutside() throws IOException {
        Path file = RawFiles.write(dir.resolve("m.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", RawFiles.f32(1f));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            f.tensors().getFirst().shape()[0] = 99;
            assertArrayEquals(new long[] {1}, f.tensors().getFirst().shape());
        }
    }

    // ---- malformed files ----

    private ModelFormatException refused(Path file) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> SafetensorsFile.open(file).close());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e;
    }

    private ModelFormatException refusedHeader(String header, byte[] data) throws IOException {
        return refused(RawFiles.write(dir.resolve("bad.safetensors"), header, data));
    }

    private static void assertContains(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "'" + message + "' lacks '" + part + "'");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 7})
    void shorterThanTheLengthField(int size) throws IOException {
        Path file = Files.write(dir.resolve("short.safetensors"), new byte[size]);
        assertContains(refused(file).getMessage(), "file is " + size + " bytes", "truncated");
    }

    @Test
    void headerLengthPastTheEnd() throws IOException {
        Path file = RawFiles.write(dir.resolve("cut.safetensors"), 1000, "{}".getBytes(), new byte[10]);
        assertEquals(file + ": header length 1000 runs past the end of the file (12 bytes follow it):"
                + " truncated or not safetensors", refused(file).getMessage());
    }

    @Test
    void headerLengthAboveTheSignedRange() throws IOException {
        Path file = RawFiles.write(dir.resolve("huge.safetensors"), -1L, "{}".getBytes(), new byte[0]);
        assertContains(refused(file).getMessage(), "header length 18446744073709551615 runs past the end");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "[1,2]|header must be a JSON object, got array",
        "\"x\"|header must be a JSON object, got string",
        "'   '|header must be a JSON object, got nothing",
        "{\"a\":|header is not valid JSON at line 1, column 6",
        "{} {}|header is not valid JSON",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},\"a\":{}}|header is not valid JSON",
        "{\"w\":5}|tensor 'w': entry must be a JSON object, got number",
    })
    void headerThatIsNotAnObjectOfEntries(String header, String expected) throws IOException {
        assertContains(refusedHeader(header, RawFiles.f32(1f)).getMessage(), expected);
    }

    @Test
    void duplicateTensorNamesAreNamed() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}";
        assertContains(refusedHeader(header, RawFiles.f32(1f)).getMessage(), "Duplicate field 'a'");
    }

    @Test
    void headerNotUtf8() throws IOException {
        byte[] header = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        Path file = RawFiles.write(dir.resolve("latin.safetensors"), header, new byte[0]);
        assertEquals(file + ": header is not valid UTF-8", refused(file).getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"shape\":[1],\"data_offsets\":[0,4]}|missing field 'dtype'",
        "{\"dtype\":\"F32\",\"data_offsets\":[0,4]}|missing field 'shape'",
        "{\"dtype\":\"F32\",\"shape\":[1]}|missing field 'data_offsets'",
        "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"layout\":\"nchw\"}"
                + "|unknown field 'layout' (allowed: dtype, shape, data_offsets)",
        "{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,4]}|dtype 'F128' is unknown (expected one of [BOOL",
        "{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}|dtype must be a string, got 7",
        "{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,4]}|shape [2,-1] holds a negative value -1",
        "{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}|shape must be an array of integers, got [1.5]",
        "{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,4]}|shape must be an array of integers, got 4",
        "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}|data_offsets must be [begin, end], got [0]",
        "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}|data_offsets must be [begin, end], got [0, 4, 8]",
        "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}|data_offsets must be an array of integers",
        "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}|data_offsets must be an array of integers",
        "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}|data_offsets [8, 4] begin after they end",
        "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}|data_offsets [-4,0] holds a negative value -4",
        "{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[4,16]}|data_offsets [4, 16] end past the data section (8 bytes): truncated",
        "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}|data_offsets [0, 8] hold 8 bytes but shape [1] of F32 needs 4",
        "{\"dtype\":\"I8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}|shape [4294967296, 4294967296] has more elements",
    })
    void badEntriesNameTheTensorAndField(String entry, String expected) throws IOException {
        ModelFormatException e = refusedHeader("{\"layer.0.weight\":" + entry + "}", new byte[8]);
        assertContains(e.getMessage(), "bad.safetensors: tensor 'layer.0.weight': " + expected);
    }

    @Test
    void byteCountMismatchReadsLikeTheDocumentedExample() throws IOException {
        ModelFormatException e = refusedHeader(
                "{\"layer.0.weight\":{\"dtype\":\"F32\",\"shape\":[5,6],\"data_offsets\":[0,100]}}", new byte[120]);
        assertEquals(dir.resolve("bad.safetensors") + ": tensor 'layer.0.weight': data_offsets [0, 100] hold 100 bytes"
                + " but shape [5, 6] of F32 needs 120", e.getMessage());
    }

    @Test
    void overlappingTensors() throws IOException {
        String header = """
                {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                 "empty":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},
                 "c":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},
                 "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""";
        assertContains(refusedHeader(header, new byte[16]).getMessage(),
                "tensor 'b': data_offsets [4, 12] overlap those of tensor 'a' [0, 8]");
    }

    @Test
    void adjacentAndEmptyRangesDoNotOverlap() throws IOException {
        Path file = RawFiles.write(dir.resolve("ok.safetensors"), """
                {"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},
                 "e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},
                 "a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", RawFiles.f32(1f, 2f));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertArrayEquals(new float[] {2f}, read(f.tensor("b").orElseThrow().floats()));
            assertArrayEquals(new float[] {1f}, read(f.tensor("a").orElseThrow().floats()));
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"__metadata__\":{\"epoch\":3}}|__metadata__ 'epoch' must be a string, got 3",
        "{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}|__metadata__ 'a' must be a string, got {\"b\":\"c\"}",
        "{\"__metadata__\":[\"a\"]}|__metadata__ must be an object of strings, got [\"a\"]",
    })
    void metadataMustMapStringsToStrings(String header, String expected) throws IOException {
        assertContains(refusedHeader(header, new byte[0]).getMessage(), "bad.safetensors: " + expected);
    }

    @Test
    void messagesStayOnOneLineWhatEverTheNames() throws IOException {
        ModelFormatException e = refusedHeader("{\"a\\nb\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,0]}}",
                new byte[0]);
        assertContains(e.getMessage(), "tensor 'a\\nb': dtype 'X' is unknown");
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
