package dev.palettizer.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The check that the committed fatbin was built from the committed sources: the SHA-256 of
 * {@link #FILES}, concatenated in that order, must be the one kernels/cuda/build-fatbin recorded
 * (first line of the .sources.sha256 file: the hash, two spaces, the files).
 */
final class FatbinSources {
    /** The hashed inputs, in build-fatbin's order (its {@code sources} array). */
    static final List<String> FILES = List.of("kernels/cuda/dialect.cuh", "kernels/common/palettizer_core.h",
            "kernels/common/dkm_core.h", "kernels/cuda/palettizer.cu", "kernels/cuda/nvcc.flags");
    static final String RECORD = Fatbin.RESOURCE + ".sources.sha256";
    static final String STALE = "kernels/cuda sources changed but the prebuilt fatbin was not rebuilt: run"
            + " kernels/cuda/build-fatbin on a machine with nvcc and commit both files";

    private FatbinSources() {}

    /** The hashed files as they are on the classpath (the build copies kernels/ there). */
    static Map<String, byte[]> onClasspath() {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (String file : FILES) {
            out.put(file, resource(file));
        }
        return out;
    }

    static byte[] resource(String name) {
        try (InputStream in = FatbinSources.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " is not on the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(name, e);
        }
    }

    /** The record line build-fatbin writes for these sources. */
    static String recordLine(Map<String, byte[]> sources) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String file : FILES) {
                sha.update(sources.get(file));
            }
            return HexFormat.of().formatHex(sha.digest()) + "  " + String.join(" ", FILES);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Empty when {@code recorded} (the record's first line) matches the sources; else why not. */
    static Optional<String> check(Map<String, byte[]> sources, String recorded) {
        String expected = recordLine(sources);
        return expected.equals(recorded) ? Optional.empty()
                : Optional.of(STALE + " (sources hash to " + expected.substring(0, 64) + ", the fatbin was built from "
                        + recorded.split(" ", 2)[0] + ")");
    }
}
