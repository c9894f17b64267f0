package dev.palettizer.model;

import java.util.Arrays;
import java.util.Optional;

/** safetensors element types. Only F32, F16 and BF16 can be palettized; the rest are copied as they are. */
public enum DType {
    BOOL(1), U8(1), I8(1), F8_E5M2(1), F8_E4M3(1),
    I16(2), U16(2), F16(2), BF16(2),
    I32(4), U32(4), F32(4),
    I64(8), U64(8), F64(8);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }

    /** Whether the engine can read this type as floats and palettize it. */
    public boolean isPalettizable() {
        return this == F32 || this == F16 || this == BF16;
    }

    public static Optional<DType> fromSafetensors(String name) {
        return Arrays.stream(values()).filter(d -> d.name().equals(name)).findFirst();
    }
}
