package dev.palettizer.backend.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * What a fatbin holds, read from its container headers (the layout cuobjdump reads: a 16-byte
 * header with magic 0xBA55ED50 and the entries' total size, then entries of {kind u16 (1 PTX,
 * 2 ELF/SASS), u16, header size u32, payload size u64, ..., architecture u32 at byte 28}, each
 * followed by its payload). Enough to check the targets without cuobjdump, which CI machines lack.
 */
final class FatbinListing {
    private FatbinListing() {}

    /** One entry: "sm_90" for SASS, "compute_75" for PTX. */
    record Entry(boolean ptx, int arch) {
        @Override
        public String toString() {
            return (ptx ? "compute_" : "sm_") + arch;
        }
    }

    static List<Entry> entries(byte[] fatbin) {
        ByteBuffer b = ByteBuffer.wrap(fatbin).order(ByteOrder.LITTLE_ENDIAN);
        List<Entry> out = new ArrayList<>();
        int container = 0;
        while (container < fatbin.length) {
            if (b.getInt(container) != Fatbin.MAGIC) {
                throw new IllegalArgumentException("no fatbin container at byte " + container);
            }
            int headerSize = Short.toUnsignedInt(b.getShort(container + 6));
            long end = container + headerSize + b.getLong(container + 8);
            long entry = container + headerSize;
            while (entry < end) {
                int at = Math.toIntExact(entry);
                int kind = Short.toUnsignedInt(b.getShort(at));
                if (kind != 1 && kind != 2) {
                    throw new IllegalArgumentException("unknown fatbin entry kind " + kind + " at byte " + at);
                }
                out.add(new Entry(kind == 1, b.getInt(at + 28)));
                entry += b.getInt(at + 4) + b.getLong(at + 8);
            }
            container = Math.toIntExact(end);
        }
        return out;
    }
}
