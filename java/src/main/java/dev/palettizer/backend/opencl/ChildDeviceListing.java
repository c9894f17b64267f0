package dev.palettizer.backend.opencl;

import dev.palettizer.backend.DeviceInfo;
import dev.palettizer.nativeloader.Availability;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Lists the OpenCL devices in a child JVM. Enumerating platforms loads every installed ICD into the
 * process for good, and PoCL brings LLVM with it (about 90 MB resident), so {@code auto}, which only
 * needs to learn whether there is a GPU, asks a child rather than carry that through the whole run.
 * The child runs {@link #main} on this JVM's class path; when that fails (no java launcher, a class
 * path the child cannot see, a timeout, output it cannot read) the caller lists in its own process.
 * {@value #MODE_PROPERTY}{@code =in-process} skips the child. With {@value ListingCache#DIRECTORY_PROPERTY}
 * set, the child's answer is kept on disk under a key that notices driver and configuration changes
 * ({@link ListingCache}), and a later JVM with the same key reads it instead of starting a child.
 */
public final class ChildDeviceListing {
    /** {@code child} (the default) or {@code in-process}. */
    static final String MODE_PROPERTY = "palettizer.opencl.probe";
    static final String HEADER = "palettizer-opencl-devices 1";
    private static final long TIMEOUT_SECONDS = 60;
    /** System properties that steer the probe (disabled probes, LWJGL's library names) go to the child. */
    private static final List<String> FORWARDED_PREFIXES = List.of("palettizer.", "org.lwjgl.");

    private ChildDeviceListing() {}

    /** Whether listings should come from a child (the default) rather than this process. */
    static boolean enabled() {
        String mode = System.getProperty(MODE_PROPERTY, "child").strip().toLowerCase(Locale.ROOT);
        return !mode.equals("in-process");
    }

    /** The devices as a child JVM lists (or, with a cache, listed) them, or empty when no child could answer. */
    static Optional<List<DeviceInfo>> list() {
        Optional<ListingCache> cache = ListingCache.configured();
        Optional<List<DeviceInfo>> stored = cache.flatMap(ListingCache::read).flatMap(ChildDeviceListing::parse);
        if (stored.isPresent()) {
            return stored;
        }
        Optional<String> out = childOutput();
        Optional<List<DeviceInfo>> listed = out.flatMap(ChildDeviceListing::parse);
        if (listed.isPresent()) {
            cache.ifPresent(c -> c.write(out.get()));
        }
        return listed;
    }

    /** The system properties a child gets, by name: those that steer the probe, not how it is run or cached. */
    static SortedMap<String, String> forwardedProperties() {
        SortedMap<String, String> forwarded = new TreeMap<>();
        for (String k : System.getProperties().stringPropertyNames()) {
            if (FORWARDED_PREFIXES.stream().anyMatch(k::startsWith) && !k.equals(MODE_PROPERTY)
                    && !k.equals(ListingCache.DIRECTORY_PROPERTY)) {
                forwarded.put(k, System.getProperty(k));
            }
        }
        return forwarded;
    }

    /** What a child JVM printed on success; empty when no child could answer. */
    private static Optional<String> childOutput() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        String classPath = System.getProperty("java.class.path", "");
        if (!Files.isExecutable(java) || classPath.isEmpty()) {
            return Optional.empty();
        }
        List<String> command = new ArrayList<>(List.of(java.toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Xmx64m", "--enable-native-access=ALL-UNNAMED"));
        forwardedProperties().forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.addAll(List.of("-cp", classPath, ChildDeviceListing.class.getName()));
        try {
            Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD)
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            // The listing is a few lines, far below a pipe's buffer, so the child never waits on us.
            if (!child.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                child.destroyForcibly();
                return Optional.empty();
            }
            try (InputStream stdout = child.getInputStream()) {
                String out = new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
                return child.exitValue() == 0 ? Optional.of(out) : Optional.empty();
            }
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Prints {@link ClDevices#list()} for the parent: a header, then one tab-separated line per device. */
    public static void main(String[] args) {
        StringBuilder out = new StringBuilder(HEADER).append('\n');
        for (OpenClDevice d : ClDevices.list()) {
            out.append(d.index()).append('\t').append(d.gpu()).append('\t').append(d.availability().available())
                    .append('\t').append(escape(d.name())).append('\t').append(escape(d.availability().detail()))
                    .append('\n');
        }
        System.out.print(out);
        System.out.flush();
    }

    static Optional<List<DeviceInfo>> parse(String out) {
        List<String> lines = out.lines().toList();
        if (lines.isEmpty() || !lines.getFirst().equals(HEADER)) {
            return Optional.empty();
        }
        List<DeviceInfo> devices = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split("\t", -1);
            if (f.length != 5 || !f[0].matches("\\d{1,9}")) {
                return Optional.empty();
            }
            String detail = unescape(f[4]);
            devices.add(new DeviceInfo(Integer.parseInt(f[0]), unescape(f[3]), Boolean.parseBoolean(f[1]),
                    Boolean.parseBoolean(f[2]) ? Availability.available(detail) : Availability.unavailable(detail)));
        }
        return Optional.of(List.copyOf(devices));
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
    }

    static String unescape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char next = s.charAt(++i);
                out.append(switch (next) {
                    case 't' -> '\t';
                    case 'n' -> '\n';
                    case 'r' -> '\r';
                    default -> next;
                });
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
