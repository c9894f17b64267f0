package dev.palettizer.spec;

/** The type a DKM LUT is fake-quantized to in the forward pass (seed 004's {@code cluster_dtype}); F32 leaves it alone. */
public enum ClusterDType {
    I8("i8"),
    U8("u8"),
    F16("f16"),
    BF16("bf16"),
    F32("f32");

    private final String configName;

    ClusterDType(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public boolean isInteger() {
        return this == I8 || this == U8;
    }

    public static ClusterDType parse(String name) {
        for (ClusterDType t : values()) {
            if (t.configName.equals(name)) {
                return t;
            }
        }
        throw new SpecException("cluster_dtype must be one of {i8, u8, f16, bf16, f32}, got '" + name + "'");
    }
}
