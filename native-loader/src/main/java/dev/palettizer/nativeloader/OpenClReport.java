package dev.palettizer.nativeloader;

import java.util.List;
import java.util.Objects;

/**
 * What the OpenCL ICD loader reported on this machine.
 *
 * @param availability whether OpenCL can be used, and why not
 * @param platforms the platforms found, empty when OpenCL is unavailable
 */
public record OpenClReport(Availability availability, List<ClPlatform> platforms) {

    public OpenClReport {
        Objects.requireNonNull(availability, "availability");
        platforms = List.copyOf(platforms);
    }

    static OpenClReport unavailable(String reason) {
        return new OpenClReport(Availability.unavailable(reason), List.of());
    }
}
