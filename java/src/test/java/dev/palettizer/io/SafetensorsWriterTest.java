package dev.palettizer.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.io.SafetensorsWriter.Payload;
import dev.palettizer.io.SafetensorsWriter.Tensor;
import dev.palettizer.model.DType;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    private static float[] floats(SafetensorsFile.Entry e) {
        float[] out = new float[Math.toIntExact(e.elementCount())];
        e.floats().read(0, out, 0, out.length);
        return out;
    }

    private List<String> dirListing() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void roundTripsEveryKindOfTensorAndTheMetadata() throws IOException {
        Path out = dir.resolve("out.safetensors");
        new SafetensorsWriter()
                .add(new Tensor("w", DType.F32, new long[] {2, 2}, Payload.ofFloats(1f, -2.5f, Float.MIN_VALUE, 1e30f)))
                .add(new Tensor("h", DType.F16, new long[] {3}, Payload.of(RawFiles.f16(0.25f, -1f, 2048f))))
                .add(new Tensor("b", DType.BF16, new long[] {2}, Payload.of(RawFiles.bf16(-0.5f, 65536f))))
                .add(new Tensor("step", DType.I64, new long[] {}, Payload.of(RawFiles.i64(123456789012L))))
                .add(new Tensor("none", DType.F32, new long[] {0, 5}, Payload.ofFloats()))
                .add(new Tensor("zp", DType.I32, new long[] {2}, Payload.ofInts(-7, Integer.MAX_VALUE)))
                .putMetadata("format", "pt")
                .putAllMetadata(Map.of("ünïcode", "\"quoted\"\n"))
                .write(out);

        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(List.of("w", "h", "b", "step", "none", "zp"),
                    f.tensors().stream().map(SafetensorsFile.Entry::name).toList());
            assertArrayEquals(new float[] {1f, -2.5f, Float.MIN_VALUE, 1e30f}, floats(f.tensor("w").orElseThrow()));
            assertArrayEquals(new long[] {2, 2}, f.tensor("w").orElseThrow().shape());
            assertArrayEquals(new float[] {0.25f, -1f, 2048f}, floats(f.tensor("h").orElseThrow()));
            assertArrayEquals(new float[] {-0.5f, 65536f}, floats(f.tensor("b").orElseThrow()));
            SafetensorsFile.Entry step = f.tensor("step").orElseThrow();
            assertEquals(DType.I64, step.dtype());
            assertEquals(0, step.shape().length);
            assertArrayEquals(RawFiles.i64(123456789012L), step.data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(new long[] {0, 5}, f.tensor("none").orElseThrow().shape());
            assertArrayEquals(new byte[] {-7, -1, -1, -1, -1, -1, -1, 0x7F},
                    f.tensor("zp").orElseThrow().data().toArray(ValueLayout.JAVA_BYTE));
            assertEquals(Map.of("format", "pt", "ünïcode", "\"quoted\"\n"), f.metadata());
        }
    }

    @Test
    void layoutIsContiguousInOrderWithAPaddedHeader() throws IOException {
        for (int nameLength = 1; nameLength <= 9; nameLength++) {
            Path out = dir.resolve("aligned" + nameLength + ".safetensors");
            new SafetensorsWriter()
                    .add(new Tensor("x".repeat(nameLength), DType.U8, new long[] {3}, Payload.of(new byte[] {1, 2, 3})))
                    .add(new Tensor("y", DType.F32, new long[] {1}, Payload.ofFloats(2f)))
                    .write(out);
            String header = RawFiles.header(out);
            assertEquals(0, header.length() % 8, "header '" + header + "'");
            String json = "{\"" + "x".repeat(nameLength) + "\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},"
                    + "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[3,7]}}";
            assertEquals(json, header.stripTrailing());
            assertTrue(header.substring(json.length()).chars().allMatch(c -> c == ' '));
            byte[] bytes = Files.readAllBytes(out);
            assertEquals(8 + header.length() + 7, bytes.length);
            assertArrayEquals(new byte[] {1, 2, 3, 0, 0, 0, 0x40},
                    Arrays.copyOfRange(bytes, 8 + header.length(), bytes.length));
        }
    }

    @Test
    void metadataComesFirstInTheHeader() throws IOException {
        Path out = dir.resolve("meta.safetensors");
        new SafetensorsWriter().add(new Tensor("t", DType.U8, new long[] {1}, Payload.of(new byte[1])))
                .putMetadata("k", "v").write(out);
        assertTrue(RawFiles.header(out).startsWith("{\"__metadata__\":{\"k\":\"v\"},\"t\":"), RawFiles.header(out));
    }

    @Test
    void streamsTensorsOfAMappedInputIntoANewFile() throws IOException {
        float[] big = new float[3_000_000]; // over one write chunk
        for (int i = 0; i < big.length; i++) {
            big[i] = i * 0.5f - 7f;
        }
        Path in = dir.resolve("in.safetensors");
        new SafetensorsWriter()
                .add(new Tensor("big", DType.F32, new long[] {1000, 3000}, Payload.ofFloats(big)))
                .add(new Tensor("ids", DType.I64, new long[] {2}, Payload.of(RawFiles.i64(5, 6))))
                .putMetadata("source", "test")
                .write(in);
        Path out = dir.resolve("copy.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(in)) {
            SafetensorsWriter writer = new SafetensorsWriter().forbidOverwriting(in).putAllMetadata(f.metadata());
            f.tensors().reversed().forEach(e -> writer.add(Tensor.copyOf(e)));
            writer.write(out);
        }
        try (SafetensorsFile copy = SafetensorsFile.open(out)) {
            assertEquals(List.of("ids", "big"), copy.tensors().stream().map(SafetensorsFile.Entry::name).toList());
            assertArrayEquals(big, floats(copy.tensor("big").orElseThrow()));
            assertArrayEquals(new long[] {1000, 3000}, copy.tensor("big").orElseThrow().shape());
            assertArrayEquals(RawFiles.i64(5, 6), copy.tensor("ids").orElseThrow().data().toArray(ValueLayout.JAVA_BYTE));
            assertEquals(Map.of("source", "test"), copy.metadata());
        }
    }

    @Test
    void replacesAnExistingOutputThatIsNotAnInput() throws IOException {
        Path out = Files.writeString(dir.resolve("out.safetensors"), "old");
        new SafetensorsWriter().add(new Tensor("a", DType.U8, new long[] {1}, Payload.of(new byte[] {9}))).write(out);
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(9, f.tensor("a").orElseThrow().data().get(ValueLayout.JAVA_BYTE, 0));
        }
        assertEquals(List.of("out.safetensors"), dirListing());
    }

    @Test
    void neverOverwritesAnInputHoweverItIsSpelled() throws IOException {
        Path in = Files.writeString(dir.resolve("model.safetensors"), "precious");
        Path link = Files.createSymbolicLink(dir.resolve("link.safetensors"), in);
        Files.createDirectory(dir.resolve("sub"));
        for (Path out : List.of(in, dir.resolve("sub/../model.safetensors"), link)) {
            SafetensorsWriter writer = new SafetensorsWriter()
                    .add(new Tensor("a", DType.U8, new long[] {1}, Payload.of(new byte[1])))
                    .forbidOverwriting(dir.resolve("./model.safetensors"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> writer.write(out));
            assertEquals("output path equals input path: " + out, e.getMessage());
        }
        assertEquals("precious", Files.readString(in));
        assertEquals(List.of("link.safetensors", "model.safetensors", "sub"), dirListing());
    }

    @Test
    void refusesAMissingInputSpelledAsTheOutput() {
        Path out = dir.resolve("new.safetensors");
        SafetensorsWriter writer = new SafetensorsWriter().forbidOverwriting(out);
        assertThrows(IllegalArgumentException.class, () -> writer.write(out));
        assertFalse(Files.exists(out));
    }

    /** Writes half its bytes, then fails like a full disk. */
    private static Payload failingHalfWay(int size) {
        return new Payload() {
            @Override
            public long byteSize() {
                return size;
            }

            @Override
            public void writeTo(WritableByteChannel out) throws IOException {
                out.write(ByteBuffer.allocate(size / 2));
                throw new IOException("No space left on device");
            }
        };
    }

    @Test
    void aFailedWriteLeavesTheOldOutputAndNoTemporaryFile() throws IOException {
        Path out = Files.writeString(dir.resolve("out.safetensors"), "old content");
        SafetensorsWriter writer = new SafetensorsWriter()
                .add(new Tensor("ok", DType.F32, new long[] {2}, Payload.ofFloats(1f, 2f)))
                .add(new Tensor("bad", DType.U8, new long[] {64}, failingHalfWay(64)));
        IOException e = assertThrows(IOException.class, () -> writer.write(out));
        assertEquals("No space left on device", e.getMessage());
        assertEquals("old content", Files.readString(out));
        assertEquals(List.of("out.safetensors"), dirListing());
    }

    @Test
    void aFailedWriteCreatesNoOutput() throws IOException {
        Path out = dir.resolve("out.safetensors");
        SafetensorsWriter writer = new SafetensorsWriter()
                .add(new Tensor("bad", DType.U8, new long[] {8}, failingHalfWay(8)));
        assertThrows(IOException.class, () -> writer.write(out));
        assertFalse(Files.exists(out));
        assertEquals(List.of(), dirListing());
    }

    @Test
    void aPayloadThatWritesTooLittleIsCaught() throws IOException {
        Payload liar = new Payload() {
            @Override
            public long byteSize() {
                return 8;
            }

            @Override
            public void writeTo(WritableByteChannel out) throws IOException {
                out.write(ByteBuffer.allocate(4));
            }
        };
        Path out = dir.resolve("out.safetensors");
        SafetensorsWriter writer = new SafetensorsWriter().add(new Tensor("short", DType.U8, new long[] {8}, liar));
        IOException e = assertThrows(IOException.class, () -> writer.write(out));
        assertEquals("tensor 'short': payload wrote 4 bytes instead of 8", e.getMessage());
        assertEquals(List.of(), dirListing());
    }

    @Test
    void temporaryFileIsHiddenBesideTheOutput() throws IOException {
        Path out = dir.resolve("out.safetensors");
        Payload peek = new Payload() {
            @Override
            public long byteSize() {
                return 1;
            }

            @Override
            public void writeTo(WritableByteChannel channel) throws IOException {
                List<String> names = dirListing();
                assertEquals(1, names.size(), names.toString());
                assertTrue(names.getFirst().startsWith(".out.safetensors.tmp"), names.getFirst());
                channel.write(ByteBuffer.wrap(new byte[1]));
            }
        };
        new SafetensorsWriter().add(new Tensor("p", DType.U8, new long[] {1}, peek)).write(out);
        assertEquals(List.of("out.safetensors"), dirListing());
    }

    @Test
    void payloadSizeMustMatchTheShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Tensor("w", DType.F32, new long[] {5, 6}, Payload.ofFloats(new float[25])));
        assertEquals("tensor 'w': payload holds 100 bytes but shape [5, 6] of F32 needs 120", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new Tensor("w", DType.F32, new long[] {-1}, Payload.of(new byte[0])));
        assertThrows(IllegalArgumentException.class,
                () -> new Tensor("__metadata__", DType.U8, new long[] {0}, Payload.of(new byte[0])));
    }

    @Test
    void duplicateNamesAreRejected() {
        SafetensorsWriter writer = new SafetensorsWriter()
                .add(new Tensor("w", DType.U8, new long[] {1}, Payload.of(new byte[1])));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> writer.add(new Tensor("w", DType.U8, new long[] {2}, Payload.of(new byte[2]))));
        assertEquals("duplicate tensor name 'w'", e.getMessage());
    }

    @Test
    void shapeIsCopied() {
        long[] shape = {4};
        Tensor t = new Tensor("w", DType.U8, shape, Payload.of(MemorySegment.ofArray(new byte[4])));
        shape[0] = 5;
        assertArrayEquals(new long[] {4}, t.shape());
    }
}
