package dev.palettizer.bench;

/** JVM options of every benchmark fork, as constants so that {@code @Fork(jvmArgs = ...)} can name them. */
final class ForkArgs {
    /** Room for a 64 MiB matrix, its sensitivities and the engine's working arrays, with GC headroom. */
    static final String HEAP = "-Xmx8g";
    /** Throughput collector: no concurrent GC threads competing with the workers on a 2-core box. */
    static final String GC = "-XX:+UseParallelGC";
    /**
     * A 512 MB young generation, touched before the first iteration. On this VM a page's first touch is slow
     * (pre-touching 2 GB takes 4.9 s), and with eden left to the adaptive policy it doubled from 96 MB to 1.9 GB
     * over a fork's first 25 s: while allocation ran through memory never touched, the optimal DP over 64 rows took
     * 50 ms instead of 15 (scalar and SIMD kernels alike). Fixing the spaces instead (-XX:-UseAdaptiveSizePolicy)
     * left eden at 96 MB, which slowed the allocating peers (Smile 134 -> 336 ms). Costs 0.9 s per fork.
     */
    static final String YOUNG = "-Xmn512m";
    static final String PRETOUCH = "-XX:+AlwaysPreTouch";
    static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";
    /**
     * The Vector API, for the optimal DP's SIMD kernel: the library takes it where the JVM has the module (after
     * its warm-up, or from the first column with palettizer.simd=on), as a trainer's JVM would with this option.
     */
    static final String VECTOR = "--add-modules=jdk.incubator.vector";

    private ForkArgs() {}
}
