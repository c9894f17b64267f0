package dev.palettizer.spec;

/** How a DKM iteration turns distances into attention (seed 004's {@code palett_mode}). */
public enum DkmMode {
    /** softmax(-d / tau) over the centroids. */
    DKM("dkm"),
    /** Gumbel-softmax: softmax(-d / tau + gumbel noise), the noise drawn from the seed, reproducibly. */
    GSM("gsm"),
    /** One-hot nearest centroid; its backward is a documented estimator, not exact reverse mode. */
    HARD("hard");

    private final String configName;

    DkmMode(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static DkmMode parse(String name) {
        for (DkmMode m : values()) {
            if (m.configName.equals(name)) {
                return m;
            }
        }
        throw new SpecException("palett_mode must be one of {dkm, gsm, hard}, got '" + name + "'");
    }
}
