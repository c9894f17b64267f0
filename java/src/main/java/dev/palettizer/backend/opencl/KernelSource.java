package dev.palettizer.backend.opencl;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The OpenCL program's source, read from the classpath. OpenCL C cannot include classpath
 * resources, so the files are concatenated in a fixed order: dialect, shared core, entry points;
 * each starts with a {@code #line} directive so compiler messages name the real file and line.
 */
final class KernelSource {
    static final List<String> OPENCL_FILES = List.of(
            "kernels/opencl/dialect.h", "kernels/common/palettizer_core.h", "kernels/common/dkm_core.h",
            "kernels/opencl/palettizer.cl");

    private KernelSource() {}

    static String opencl() {
        StringBuilder out = new StringBuilder();
        for (String file : OPENCL_FILES) {
            out.append("#line 1 \"").append(file).append("\"\n").append(read(file)).append('\n');
        }
        return out.toString();
    }

    private static String read(String resource) {
        try (InputStream in = KernelSource.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + resource + " is missing from the classpath;"
                        + " the build copies kernels/ into the jar (java/pom.xml resources)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel source " + resource, e);
        }
    }
}
