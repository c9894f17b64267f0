package dev.palettizer.nativeloader;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class NativeLibraryProbeTest {

    @Test
    void missingLibraryIsUnavailableAndNamedInTheReason() {
        Availability result = assertDoesNotThrow(() -> NativeLibraryProbe.probe("libpalettizer-missing.so.7"));

        assertFalse(result.available());
        assertTrue(result.detail().contains("libpalettizer-missing.so.7"), result.detail());
        assertFalse(result.detail().contains("\n"), "a reason is one line: " + result.detail());
    }

    @Test
    void secondProbeReturnsTheCachedInstance() {
        assertSame(NativeLibraryProbe.probe("libpalettizer-cached.so.1"),
                NativeLibraryProbe.probe("libpalettizer-cached.so.1"));
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void installedLibraryIsAvailable() throws ProbeFailure {
        Availability libc = NativeLibraryProbe.probe("libc.so.6");

        assertTrue(libc.available(), libc.detail());
        assertSame(libc, NativeLibraryProbe.probe("libc.so.6"));
        assertTrue(NativeLibraryProbe.require("libc.so.6", "unused").find("strlen").isPresent());
    }
}
