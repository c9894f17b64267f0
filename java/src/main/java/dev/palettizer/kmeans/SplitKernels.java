package dev.palettizer.kmeans;

import java.util.Locale;
import java.util.Optional;

/**
 * Which {@link SplitKernel} the dynamic programs of this process run: both give the same bits, so the choice is
 * only about time, and it is made once, since a DP call site that has seen both kernels is compiled for neither
 * (measured: a process that switched from scalar to SIMD after a warm-up ran the DP at the scalar kernel's speed).
 *
 * <p>The SIMD kernel needs {@code jdk.incubator.vector} resolved at start-up ({@code --add-modules
 * jdk.incubator.vector}). It pays once C2 has compiled it: the interpreter and C1 run the Vector API as objects,
 * so a fresh JVM's first DPs run slower on it (a lone 1,000-point DP: 4 ms scalar, 500 ms SIMD), and 2.5 times
 * faster from then on. A JVM started with the module is taken to be one that runs long enough. The system
 * property {@value #PROPERTY} says {@code auto} (the default: SIMD where the module is resolved and vectors hold
 * at least 4 doubles), {@code on} (SIMD, or fail saying what to add) or {@code off}.
 */
final class SplitKernels {
    static final String PROPERTY = "palettizer.simd";

    private enum Mode { AUTO, ON, OFF }

    private static final String SETTING = System.getProperty(PROPERTY, "auto");
    /** Null when the setting is none of the modes: every DP then fails saying so. */
    private static final Mode MODE = mode(SETTING);
    /** The kernel of this process; null when the mode is unknown, or on without the module. */
    private static final SplitKernel CHOSEN = choose(MODE);

    private SplitKernels() {}

    /** This process's kernel. */
    static SplitKernel chosen() {
        if (MODE == null) {
            throw new IllegalArgumentException("system property " + PROPERTY + " is '" + SETTING
                    + "'; it must be auto, on or off");
        }
        if (CHOSEN == null) {
            throw new IllegalStateException(PROPERTY + "=on needs the SIMD kernel, which needs the JVM option "
                    + "--add-modules jdk.incubator.vector");
        }
        return CHOSEN;
    }

    /** The SIMD kernel where this JVM can run it (whatever the mode), else empty: for tests that compare the two. */
    static Optional<SplitKernel> vector() {
        return vectorModuleResolved() ? Optional.of(vectorKernel()) : Optional.empty();
    }

    private static SplitKernel choose(Mode mode) {
        if (mode == null) {
            return null;
        }
        return switch (mode) {
            case OFF -> ScalarSplitKernel.INSTANCE;
            case ON -> vectorModuleResolved() ? vectorKernel() : null;
            case AUTO -> vectorModuleResolved() && VectorSplitKernel.pays() ? vectorKernel() : ScalarSplitKernel.INSTANCE;
        };
    }

    private static boolean vectorModuleResolved() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    /** Called only once the module is known to be there: the class links against it. */
    private static SplitKernel vectorKernel() {
        return new VectorSplitKernel();
    }

    private static Mode mode(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "auto" -> Mode.AUTO;
            case "on" -> Mode.ON;
            case "off" -> Mode.OFF;
            default -> null;
        };
    }
}
