package dev.palettizer.spec;

/** How DKM's first centroids are found (seed 004's {@code kmeans_init}). */
public enum KMeansInit {
    CPU_KMEANS_PP("cpu.kmeans++"),
    KMEANS_PP("kmeans_pp"),
    EFFICIENT_KMEANS("efficient_kmeans");

    private final String configName;

    KMeansInit(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static KMeansInit parse(String name) {
        for (KMeansInit k : values()) {
            if (k.configName.equals(name)) {
                return k;
            }
        }
        throw new SpecException("kmeans_init must be one of {cpu.kmeans++, kmeans_pp, efficient_kmeans}, got '" + name + "'");
    }
}
