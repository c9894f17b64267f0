package dev.palettizer.examples.djl;

import ai.djl.engine.Engine;
import ai.djl.util.ClassLoaderUtils;
import ai.djl.util.Utils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * DJL's PyTorch engine on the CPU natives of {@code ai.djl.pytorch:pytorch-native-cpu} (classifier
 * {@code linux-x86_64}) and {@code ai.djl.pytorch:pytorch-jni}, both from Maven Central, with DJL's
 * offline mode on: DJL then extracts the libraries from those jars into its cache and never opens a
 * URL (its downloads go through {@code Utils.openUrl}, which refuses in offline mode).
 *
 * <p>The jars are checked before the engine loads: without them DJL would treat the platform as a
 * placeholder and try to download libtorch, which in offline mode ends in a vague "Failed to save
 * pytorch index file"; here it ends in an error naming the missing artifact.
 */
public final class OfflinePyTorch {
    public static final String ENGINE_NAME = "PyTorch";
    /** The libtorch version of the bundled natives (pytorch-native-cpu 2.7.1). */
    public static final String PYTORCH_VERSION = "2.7.1";
    /** The system property DJL reads for offline mode (environment variable DJL_OFFLINE wins over it). */
    public static final String OFFLINE_PROPERTY = "ai.djl.offline";
    /** Written by pytorch-native-cpu: version, flavor, classifier and library list. */
    static final String NATIVE_PROPERTIES = "native/lib/pytorch.properties";
    /** Written by pytorch-jni: the version of libdjl_torch.so it carries. */
    static final String JNI_PROPERTIES = "jnilib/pytorch.properties";
    static final String NATIVE_ARTIFACT = "ai.djl.pytorch:pytorch-native-cpu:" + PYTORCH_VERSION + ":linux-x86_64";
    static final String JNI_ARTIFACT = "ai.djl.pytorch:pytorch-jni:" + PYTORCH_VERSION + "-0.36.0";

    private OfflinePyTorch() {}

    /**
     * Switches DJL to offline mode, checks the bundled natives, loads the engine and checks its
     * version.
     *
     * @throws IllegalStateException if offline mode was explicitly turned off, a native jar is
     *     missing or for another platform, or the engine reports another version
     */
    public static Engine engine() {
        requireOffline();
        singleThreadedUnlessSet();
        requireBundledNatives(ClassLoaderUtils.getContextClassLoader()); // the loader DJL searches
        Engine engine = Engine.getEngine(ENGINE_NAME);
        if (!PYTORCH_VERSION.equals(engine.getVersion())) {
            throw new IllegalStateException("DJL loaded PyTorch " + engine.getVersion() + ", expected " + PYTORCH_VERSION
                    + " from " + NATIVE_ARTIFACT + "; is PYTORCH_LIBRARY_PATH or PYTORCH_VERSION set? Unset them.");
        }
        return engine;
    }

    /**
     * One intra-op and one inter-op thread unless the command line says otherwise (read once, when
     * the engine loads). This example's matrices are tiny: torch's OpenMP workers spin-wait, and on a
     * busy 2-core machine one seed's run took 93-139 s with two threads against 11-13 s with one. One
     * thread also makes the results independent of the machine's core count (reduction order).
     */
    static void singleThreadedUnlessSet() {
        for (String property : List.of("ai.djl.pytorch.num_threads", "ai.djl.pytorch.num_interop_threads")) {
            if (System.getProperty(property) == null) {
                System.setProperty(property, "1");
            }
        }
    }

    /** Turns offline mode on unless the environment or the command line turned it off, which is refused. */
    static void requireOffline() {
        String env = System.getenv("DJL_OFFLINE");
        String property = System.getProperty(OFFLINE_PROPERTY);
        if ((env != null && !Boolean.parseBoolean(env)) || (env == null && property != null && !Boolean.parseBoolean(property))) {
            throw new IllegalStateException("DJL offline mode is off (DJL_OFFLINE=" + env + ", -D" + OFFLINE_PROPERTY + "="
                    + property + "), so the PyTorch engine may download at run time; this example runs offline only: "
                    + "remove the setting or set it to true");
        }
        System.setProperty(OFFLINE_PROPERTY, "true");
        if (!Utils.isOfflineMode()) {
            throw new IllegalStateException("DJL does not report offline mode after -D" + OFFLINE_PROPERTY + "=true");
        }
    }

    /** Checks that {@code loader} sees the CPU natives for this machine and the JNI library. */
    static void requireBundledNatives(ClassLoader loader) {
        String platform = platformClassifier();
        List<Properties> natives = properties(loader, NATIVE_PROPERTIES, NATIVE_ARTIFACT);
        List<String> found = new ArrayList<>();
        boolean match = false;
        for (Properties p : natives) {
            found.add(p.getProperty("version") + " " + p.getProperty("flavor") + " " + p.getProperty("classifier"));
            match |= platform.equals(p.getProperty("classifier")) && p.getProperty("version", "").startsWith(PYTORCH_VERSION + "-");
        }
        if (!match) {
            throw new IllegalStateException("the class path holds PyTorch natives " + found + ", but this machine needs "
                    + PYTORCH_VERSION + " for " + platform + "; depend on " + NATIVE_ARTIFACT.replace("linux-x86_64", platform));
        }
        String jni = properties(loader, JNI_PROPERTIES, JNI_ARTIFACT).getFirst().getProperty("jni_version", "");
        if (!jni.startsWith(PYTORCH_VERSION + "-")) {
            throw new IllegalStateException("the class path holds the DJL PyTorch JNI " + jni + ", expected "
                    + PYTORCH_VERSION + "-*; depend on " + JNI_ARTIFACT);
        }
    }

    /** Every copy of {@code resource} that {@code loader} sees (DJL reads them all, as here). */
    private static List<Properties> properties(ClassLoader loader, String resource, String artifact) {
        List<Properties> all = new ArrayList<>();
        try {
            for (URL url : Collections.list(loader.getResources(resource))) {
                Properties p = new Properties();
                try (InputStream in = url.openStream()) {
                    p.load(in);
                }
                all.add(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource + " from the class path", e);
        }
        if (all.isEmpty()) {
            throw new IllegalStateException("PyTorch natives missing: no " + resource + " on the class path; add the Maven "
                    + "dependency " + artifact + " (DJL runs offline here and will not download them)");
        }
        return all;
    }

    /** DJL's classifier for this machine, e.g. linux-x86_64. */
    static String platformClassifier() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        String osName = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "osx" : os.startsWith("win") ? "win" : os;
        String archName = "amd64".equals(arch) ? "x86_64" : arch;
        return osName + '-' + archName;
    }
}
