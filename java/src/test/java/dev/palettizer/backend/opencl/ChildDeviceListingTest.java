package dev.palettizer.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.backend.DeviceInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The child JVM's listing is this process's listing, and {@code auto} asking for devices leaves the
 * OpenCL runtime (PoCL and its LLVM on CI) out of the asking process.
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
}
