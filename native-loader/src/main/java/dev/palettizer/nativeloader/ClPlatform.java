package dev.palettizer.nativeloader;

import java.util.List;
import java.util.Objects;

/**
 * One installed OpenCL platform (one ICD) and its devices.
 *
 * @param index the platform's position in the {@code clGetPlatformIDs} list
 * @param name {@code CL_PLATFORM_NAME}, for example "Portable Computing Language"
 * @param version {@code CL_PLATFORM_VERSION}, for example "OpenCL 3.0 PoCL 3.1+debian ..."
 * @param devices the platform's devices of every type; may be empty
 */
public record ClPlatform(int index, String name, String version, List<ClDevice> devices) {

    public ClPlatform {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        devices = List.copyOf(devices);
    }
}
