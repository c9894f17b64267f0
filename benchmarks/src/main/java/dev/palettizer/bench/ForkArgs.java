package dev.palettizer.bench;

/** JVM options of every benchmark fork, as constants so that {@code @Fork(jvmArgs = ...)} can name them. */
final class ForkArgs {
    /** Room for a 64 MiB matrix, its sensitivities and the engine's working arrays, with GC headroom. */
    static final String HEAP = "-Xmx8g";
    /** Throughput collector: no concurrent GC threads competing with the workers on a 2-core box. */
    static final String GC = "-XX:+UseParallelGC";
    /**
     * Fixed young and old spaces. With the adaptive size policy, eden grows by doubling for the first tens of
     * seconds (96 MB to 1.9 GB in 25 s of the DP benchmark), and while allocation runs through memory it has never
     * touched, every page costs a fault: the optimal DP over 64 rows took 15 ms in some seconds and 50 ms in others
     * of the same fork, scalar and SIMD kernels alike. With the spaces fixed, 15 to 19 ms throughout.
     */
    static final String FIXED_SPACES = "-XX:-UseAdaptiveSizePolicy";
    static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    /**
     * The Vector API, for the optimal DP's SIMD kernel: the library takes it where the JVM has the module (after
     * its warm-up, or from the first column with palettizer.simd=on), as a trainer's JVM would with this option.
     */
    static final String VECTOR = "--add-modules=jdk.incubator.vector";

    private ForkArgs() {}
}
