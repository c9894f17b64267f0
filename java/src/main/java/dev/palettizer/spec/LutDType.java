package dev.palettizer.spec;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Storage types a LUT may be quantized to; names match the CLI and the config files. */
public enum LutDType {
    INT8("int8", true),
    UINT8("uint8", true),
    FP8_E4M3("fp8_e4m3", false),
    FP8_E5M2("fp8_e5m2", false);

    private final String cliName;
    private final boolean integer;

    LutDType(String cliName, boolean integer) {
        this.cliName = cliName;
        this.integer = integer;
    }

    public String cliName() {
        return cliName;
    }

    public boolean isInteger() {
        return integer;
    }

    public static LutDType parse(String name) {
        for (LutDType t : values()) {
            if (t.cliName.equalsIgnoreCase(name) || t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new SpecException("lut_qspec.dtype must be one of " + allowed() + ", got '" + name + "'");
    }

    public static String allowed() {
        return Arrays.stream(values()).map(LutDType::cliName).collect(Collectors.joining(", ", "{", "}"));
    }
}
