package dev.palettizer.backend.opencl;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The child JVM's device listing kept on disk, so that a cold start does not pay a second JVM to learn
 * what it learnt last time. Off unless {@value #DIRECTORY_PROPERTY} names a directory (the launcher
 * points it next to the CLI jar).
 *
 * <p>An entry is used only when its key equals this process's key, which describes everything that can
 * change the listing without this process loading OpenCL: the ICD files and the libraries they name,
 * the loader and {@code /etc/ld.so.cache} (touched by every library install), the GPU device nodes and
 * the NVIDIA kernel driver's version, the environment variables the loaders and drivers read, the
 * forwarded system properties, this class path (the listing code) and the JVM, and the host. As a last
 * guard, an entry older than {@link #MAX_AGE} is listed again. Any failure to read or write only means
 * asking the child.
 */
final class ListingCache {
    /** The directory of the cache file; unset or blank: no cache. */
    static final String DIRECTORY_PROPERTY = "palettizer.opencl.listingCache";
    static final String FILE_NAME = "opencl-devices.txt";
    static final Duration MAX_AGE = Duration.ofDays(1);
    private static final String END_OF_KEY = "end of key";

    /** Variables read by the ICD loader, PoCL, Mesa, and the NVIDIA, AMD and Intel runtimes, and the dynamic linker. */
    private static final List<String> ENVIRONMENT_PREFIXES = List.of("OCL_", "OPENCL", "POCL_", "RUSTICL_", "MESA_",
            "CUDA_", "NVIDIA_", "GPU_", "ROCR_", "HIP_", "HSA_", "AMD_", "ZE_", "NEO_", "INTEL_", "SYCL_", "CL_",
            "LD_LIBRARY_PATH", "LD_PRELOAD");
    private static final List<String> LIBRARY_DIRECTORIES = List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
            "/usr/lib64", "/usr/lib", "/usr/local/lib", "/lib/x86_64-linux-gnu", "/lib64");

    private final Path file;
    private final String key;

    ListingCache(Path directory, String key) {
        this.file = directory.resolve(FILE_NAME);
        this.key = key;
    }

    /** The cache the system properties ask for, keyed by this process's environment. */
    static Optional<ListingCache> configured() {
        String directory = System.getProperty(DIRECTORY_PROPERTY, "").strip();
        return directory.isEmpty() ? Optional.empty() : Optional.of(new ListingCache(Path.of(directory), key()));
    }

    /** The stored listing when its key is this one and it is fresh enough; empty otherwise. */
    Optional<String> read() {
        try {
            if (Files.getLastModifiedTime(file).toInstant().isBefore(Instant.now().minus(MAX_AGE))) {
                return Optional.empty();
            }
            String text = Files.readString(file, StandardCharsets.UTF_8);
            String prefix = key + END_OF_KEY + "\n";
            return text.startsWith(prefix) ? Optional.of(text.substring(prefix.length())) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Replaces the entry in one rename, so a concurrent reader sees the old entry or the new one. */
    void write(String listing) {
        Path tmp = null;
        try {
            Files.createDirectories(file.getParent());
            tmp = Files.createTempFile(file.getParent(), "." + FILE_NAME, ".tmp");
            Files.writeString(tmp, key + END_OF_KEY + "\n" + listing, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException | RuntimeException e) {
            // Not being able to store the listing costs the next run a child JVM, nothing else.
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    // A stray temporary file in the cache directory is harmless.
                }
            }
        }
    }

    /** One line per fact, each escaped to a single line. */
    static String key() {
        List<String> facts = new ArrayList<>();
        facts.add("listing " + ChildDeviceListing.HEADER);
        facts.add("jvm " + System.getProperty("java.home") + " " + System.getProperty("java.vm.version"));
        facts.add("os " + System.getProperty("os.name") + " " + System.getProperty("os.arch") + " "
                + System.getProperty("os.version") + " cpus " + Runtime.getRuntime().availableProcessors());
        facts.add("host " + firstLine(Path.of("/proc/sys/kernel/hostname")));
        for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            facts.add("classpath " + stat(Path.of(entry)));
        }
        ChildDeviceListing.forwardedProperties().forEach((k, v) -> facts.add("property " + k + "=" + v));
        System.getenv().entrySet().stream().filter(e -> ENVIRONMENT_PREFIXES.stream().anyMatch(e.getKey()::startsWith))
                .map(Map.Entry::toString).sorted().forEach(e -> facts.add("env " + e));
        List<String> libraryDirectories = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("LD_LIBRARY_PATH", "").split(":")) {
            if (!dir.isBlank()) {
                libraryDirectories.add(dir);
            }
        }
        libraryDirectories.addAll(LIBRARY_DIRECTORIES);
        String vendors = System.getenv().getOrDefault("OCL_ICD_VENDORS", "/etc/OpenCL/vendors");
        for (Path icd : listing(Path.of(vendors))) {
            facts.add("icd " + stat(icd));
            String library = firstLine(icd);
            if (library.startsWith("/")) {
                facts.add("icd library " + stat(Path.of(library)));
            } else {
                libraryDirectories.forEach(dir -> facts.add("icd library " + stat(Path.of(dir, library))));
            }
        }
        facts.add("ld.so.cache " + stat(Path.of("/etc/ld.so.cache")));
        String loader = System.getProperty("org.lwjgl.opencl.libname", ClLibrary.LIBRARY);
        libraryDirectories.forEach(dir -> facts.add("loader " + stat(Path.of(dir, loader))));
        for (Path node : listing(Path.of("/dev"))) {
            String name = node.getFileName().toString();
            if (name.startsWith("nvidia") || name.equals("kfd") || name.equals("dri")) {
                facts.add("device node " + name);
            }
        }
        listing(Path.of("/dev/dri")).forEach(node -> facts.add("device node dri/" + node.getFileName()));
        facts.add("nvidia driver " + firstLine(Path.of("/proc/driver/nvidia/version")));
        StringBuilder key = new StringBuilder();
        facts.forEach(fact -> key.append(ChildDeviceListing.escape(fact)).append('\n'));
        return key.toString();
    }

    /** The entries of a directory by name, a file alone as itself, nothing when absent or unreadable. */
    private static List<Path> listing(Path path) {
        if (!Files.isDirectory(path)) {
            return Files.exists(path) ? List.of(path) : List.of();
        }
        try (Stream<Path> entries = Files.list(path)) {
            return entries.sorted().toList();
        } catch (IOException | RuntimeException e) {
            return List.of(Path.of(path + " (unreadable)"));
        }
    }

    /** Path, then the size and modification time of what it points to, or "absent". */
    private static String stat(Path path) {
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            Path real = Files.isSymbolicLink(path) ? path.toRealPath() : path;
            return path + " -> " + real + " " + a.size() + " " + a.lastModifiedTime().toInstant();
        } catch (IOException | RuntimeException e) {
            return path + " absent";
        }
    }

    private static String firstLine(Path path) {
        try (Stream<String> lines = Files.lines(path, StandardCharsets.UTF_8)) {
            return lines.findFirst().orElse("").strip();
        } catch (IOException | RuntimeException e) {
            return "(" + (Files.exists(path, LinkOption.NOFOLLOW_LINKS) ? "unreadable" : "absent") + ")";
        }
    }
}
