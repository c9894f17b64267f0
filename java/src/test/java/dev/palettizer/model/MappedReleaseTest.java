package dev.palettizer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FloatSource#release()} on a view of a mapped file drops the mapping's resident pages, which
 * is what keeps a model streamed tensor by tensor from staying resident as a whole. Measured as the
 * mapping's {@code Rss} in {@code /proc/self/smaps} (Linux; skipped elsewhere).
 */
class MappedReleaseTest {
    private static final int FLOATS = 8 << 20; // 32 MiB
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void releasingAMappedSourceDropsItsResidentPagesAndKeepsItsValues() throws IOException {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/smaps")), "needs /proc/self/smaps (Linux)");
        Path file = dir.resolve("values.bin");
        ByteBuffer bytes = ByteBuffer.allocate(FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < FLOATS; i++) {
            bytes.putFloat(i * 0.5f);
        }
        Files.write(file, bytes.array());
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            FloatSource source = new TransposedSource(new SegmentSource(mapped, DType.F32), 1024, FLOATS / 1024);
            float[] all = new float[FLOATS];
            source.read(0, all, 0, FLOATS);
            long before = residentBytes(mapped);
            assertTrue(before > 30 * MIB, "read whole: " + before + " bytes resident");

            source.release();
            long after = residentBytes(mapped);
            assertTrue(after < MIB, "released: " + after + " bytes resident");

            float[] again = new float[FLOATS];
            source.read(0, again, 0, FLOATS);
            assertEquals(java.util.Arrays.hashCode(all), java.util.Arrays.hashCode(again), "values read back from the file");
        }
    }

    @Test
    void releasingAHeapSourceChangesNothing() {
        float[] values = {1f, 2f, 3f};
        FloatSource s = new FloatArraySource(values);
        s.release();
        float[] out = new float[3];
        s.read(0, out, 0, 3);
        assertEquals(List.of(1f, 2f, 3f), List.of(out[0], out[1], out[2]));
    }

    /** The Rss of the mapping that starts at {@code segment}'s address. */
    private static long residentBytes(MemorySegment segment) throws IOException {
        String start = Long.toHexString(segment.address());
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(start + "-")) {
                for (int j = i + 1; j < lines.size(); j++) {
                    String line = lines.get(j);
                    if (line.startsWith("Rss:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    }
                }
            }
        }
        throw new AssertionError("no mapping at 0x" + start + " in /proc/self/smaps");
    }
}
