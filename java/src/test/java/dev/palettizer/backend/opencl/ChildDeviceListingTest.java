package dev.palettizer.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.DeviceInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The child JVM's listing is this process's listing, and {@code auto} asking for devices leaves the
 * OpenCL runtime (PoCL and its LLVM on CI) out of the asking process. A cached listing is used only
 * under this process's key and while fresh; otherwise the child lists again and the cache is replaced.
 */
class ChildDeviceListingTest {

    @Test
    void aChildListsTheDevicesThisProcessLists() {
        List<DeviceInfo> here = ClDevices.list().stream().map(OpenClDevice::info).toList();
        Optional<List<DeviceInfo>> child = ChildDeviceListing.list();
        assertTrue(child.isPresent(), "the child JVM answered");
        assertEquals(here, child.get());
    }

    @Test
    void namesAndDetailsSurviveTheLineFormat() {
        for (String s : List.of("", "plain", "tab\there", "line\nbreak\r", "back\\slash\\t not a tab", "\\")) {
            assertEquals(s, ChildDeviceListing.unescape(ChildDeviceListing.escape(s)));
        }
    }

    @Test
    void outputThatIsNotAListingIsRefused() {
        assertEquals(Optional.empty(), ChildDeviceListing.parse(""));
        assertEquals(Optional.empty(), ChildDeviceListing.parse("some warning\n0\ttrue\ttrue\tx\ty\n"));
        assertEquals(Optional.empty(), ChildDeviceListing.parse("palettizer-opencl-devices 1\n0\ttrue\ttrue\tx\n"));
        assertEquals(Optional.of(List.of()), ChildDeviceListing.parse("palettizer-opencl-devices 1\n"));
    }

    /** In a fresh JVM, as the CLI runs: {@code auto} decides without mapping libOpenCL or an ICD. */
    @Test
    void autoLeavesOpenClOutOfTheProcess() throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs /proc/self/maps (Linux)");
        Assumptions.assumeTrue(ClLibrary.availability().available(),
                () -> "OpenCL is not installed here, so there is nothing to keep out: " + ClLibrary.availability().detail());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), AutoChoiceChild.class.getName()).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(2, TimeUnit.MINUTES), "child finished");
        assertEquals(0, child.exitValue(), out);
        assertTrue(out.contains("chose "), out);
        assertTrue(out.contains("opencl libraries mapped: []"), out);
    }

    private static final String FAKE = ChildDeviceListing.HEADER + "\n0\ttrue\ttrue\tCached GPU\tfrom the cache\n";

    /** Lists with the cache directory set, as the launcher runs the CLI. */
    private static Optional<List<DeviceInfo>> listWithCacheIn(Path dir) {
        String before = System.getProperty(ListingCache.DIRECTORY_PROPERTY);
        System.setProperty(ListingCache.DIRECTORY_PROPERTY, dir.toString());
        try {
            return ChildDeviceListing.list();
        } finally {
            if (before == null) {
                System.clearProperty(ListingCache.DIRECTORY_PROPERTY);
            } else {
                System.setProperty(ListingCache.DIRECTORY_PROPERTY, before);
            }
        }
    }

    @Test
    void aStoredListingUnderThisKeyIsUsedWithoutAChild(@TempDir Path dir) {
        new ListingCache(dir, ListingCache.key()).write(FAKE);
        assertEquals(ChildDeviceListing.parse(FAKE), listWithCacheIn(dir));
    }

    @Test
    void aListingUnderAnotherKeyIsListedAgainAndReplaced(@TempDir Path dir) {
        new ListingCache(dir, "jvm another one\n").write(FAKE);
        Optional<List<DeviceInfo>> listed = listWithCacheIn(dir);
        assertEquals(Optional.of(ClDevices.list().stream().map(OpenClDevice::info).toList()), listed);
        assertEquals(listed, new ListingCache(dir, ListingCache.key()).read().flatMap(ChildDeviceListing::parse),
                "the child's answer is stored under this key");
    }

    @Test
    void anOldListingIsNotUsed(@TempDir Path dir) throws IOException {
        ListingCache cache = new ListingCache(dir, ListingCache.key());
        cache.write(FAKE);
        assertEquals(Optional.of(FAKE), cache.read());
        Files.setLastModifiedTime(dir.resolve(ListingCache.FILE_NAME),
                FileTime.from(Instant.now().minus(ListingCache.MAX_AGE).minusSeconds(60)));
        assertEquals(Optional.empty(), cache.read());
    }

    @Test
    void theKeyNoticesWhatSteersTheProbe() {
        String key = ListingCache.key();
        assertTrue(key.contains("ld.so.cache "), key);
        assertTrue(key.contains("classpath "), key);
        System.setProperty("palettizer.opencl.testOnlyProbeSetting", "x");
        try {
            assertNotEquals(key, ListingCache.key(), "a forwarded property is part of the key");
        } finally {
            System.clearProperty("palettizer.opencl.testOnlyProbeSetting");
        }
        assertEquals(key, ListingCache.key(), "the key is stable");
    }

    @Test
    void aCorruptCacheFileOnlyMeansAskingTheChild(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve(ListingCache.FILE_NAME), new byte[] {(byte) 0xff, 0, 1, 2, '\n'});
        assertEquals(Optional.of(ClDevices.list().stream().map(OpenClDevice::info).toList()), listWithCacheIn(dir));
    }
}
