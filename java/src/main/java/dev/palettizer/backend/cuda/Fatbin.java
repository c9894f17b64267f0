package dev.palettizer.backend.cuda;

import dev.palettizer.backend.BackendException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The prebuilt CUDA kernels (kernels/cuda/build-fatbin), read from the classpath once per JVM.
 * The bytes go to {@code cuModuleLoadData} unchanged; the driver picks the SASS for the device, or
 * compiles the compute_75 PTX for architectures without SASS.
 */
final class Fatbin {
    static final String RESOURCE = "kernels/cuda/prebuilt/palettizer.fatbin";
    /** The fatbin container's magic number (little-endian). */
    static final int MAGIC = 0xBA55ED50;

    private Fatbin() {}

    private static final class Loaded {
        static final byte[] BYTES = read(RESOURCE);
    }

    static byte[] bytes() {
        return Loaded.BYTES;
    }

    static byte[] read(String resource) {
        byte[] bytes;
        try (InputStream in = Fatbin.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw missing(resource + " is missing from the classpath; the build copies kernels/ into the jar"
                        + " (java/pom.xml resources)");
            }
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
        if (bytes.length < 16 || ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt(0) != MAGIC) {
            throw missing(resource + " (" + bytes.length + " bytes) is not a CUDA fatbin; rebuild it with"
                    + " kernels/cuda/build-fatbin --force");
        }
        return bytes;
    }

    private static BackendException missing(String message) {
        return new BackendException(BackendException.Status.NOT_AVAILABLE, "CUDA kernels: " + message);
    }
}
