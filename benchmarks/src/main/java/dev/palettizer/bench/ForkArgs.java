package dev.palettizer.bench;

/** JVM options of every benchmark fork, as constants so that {@code @Fork(jvmArgs = ...)} can name them. */
final class ForkArgs {
    /** Room for a 64 MiB matrix, its sensitivities and the engine's working arrays, with GC headroom. */
    static final String HEAP = "-Xmx8g";
    /** Throughput collector: no concurrent GC threads competing with the workers on a 2-core box. */
    static final String GC = "-XX:+UseParallelGC";
    static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";

    private ForkArgs() {}
}
