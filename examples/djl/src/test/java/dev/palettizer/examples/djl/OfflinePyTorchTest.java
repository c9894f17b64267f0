package dev.palettizer.examples.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.LibUtils;
import ai.djl.util.Utils;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine runs on the Maven Central natives, offline; without them it says which artifact is missing. */
class OfflinePyTorchTest {
    @Test
    void engineIsPyTorchFromTheBundledCpuNativesInOfflineMode() {
        Engine engine = OfflinePyTorch.engine();
        assertEquals("PyTorch", engine.getEngineName());
        assertEquals("2.7.1", engine.getVersion());
        assertTrue(Utils.isOfflineMode(), "DJL reports offline mode");
        assertEquals("true", System.getProperty("ai.djl.offline"));
        // Extracted from pytorch-native-cpu (its version-flavor-classifier folder), not downloaded.
        Path libtorch = Path.of(LibUtils.getLibtorchPath());
        assertEquals(Utils.getEngineCacheDir("pytorch").resolve("2.7.1-20250812-cpu-linux-x86_64"), libtorch);
        assertTrue(Files.isRegularFile(libtorch.resolve("libtorch_cpu.so")), libtorch + " holds libtorch_cpu.so");
    }

    @Test
    void missingNativesNameTheArtifactToAdd() {
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> OfflinePyTorch.requireBundledNatives(empty));
            assertTrue(e.getMessage().contains("ai.djl.pytorch:pytorch-native-cpu:2.7.1:linux-x86_64"), e.getMessage());
            assertTrue(e.getMessage().contains("will not download"), e.getMessage());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void nativesForAnotherPlatformOrAMissingJniAreRefused(@TempDir Path dir) throws IOException {
        Files.createDirectories(dir.resolve("native/lib"));
        Files.writeString(dir.resolve("native/lib/pytorch.properties"),
                "version=2.7.1-20250812\nflavor=cpu\nclassifier=osx-aarch64\nlibraries=libtorch.dylib\n");
        try (URLClassLoader other = new URLClassLoader(new URL[] {dir.toUri().toURL()}, null)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> OfflinePyTorch.requireBundledNatives(other));
            assertTrue(e.getMessage().contains("osx-aarch64") && e.getMessage().contains("linux-x86_64"), e.getMessage());
        }
        Files.writeString(dir.resolve("native/lib/pytorch.properties"),
                "version=2.7.1-20250812\nflavor=cpu\nclassifier=" + OfflinePyTorch.platformClassifier() + "\n");
        try (URLClassLoader noJni = new URLClassLoader(new URL[] {dir.toUri().toURL()}, null)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> OfflinePyTorch.requireBundledNatives(noJni));
            assertTrue(e.getMessage().contains("ai.djl.pytorch:pytorch-jni:2.7.1-0.36.0"), e.getMessage());
        }
    }

    @Test
    void offlineModeSwitchedOffIsRefused() {
        String saved = System.getProperty(OfflinePyTorch.OFFLINE_PROPERTY);
        System.setProperty(OfflinePyTorch.OFFLINE_PROPERTY, "false");
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, OfflinePyTorch::requireOffline);
            assertTrue(e.getMessage().contains("offline mode is off"), e.getMessage());
        } finally {
            System.setProperty(OfflinePyTorch.OFFLINE_PROPERTY, saved == null ? "true" : saved);
        }
    }
}
