package dev.palettizer.spec;

/** Symmetric (zero point fixed at the type's middle) or asymmetric (zero point from min and max). */
public enum QScheme {
    SYMMETRIC("symmetric"),
    ASYMMETRIC("asymmetric");

    private final String cliName;

    QScheme(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    public static QScheme parse(String name) {
        for (QScheme s : values()) {
            if (s.cliName.equalsIgnoreCase(name)) {
                return s;
            }
        }
        throw new SpecException("lut_qspec.qscheme must be one of {symmetric, asymmetric}, got '" + name + "'");
    }
}
