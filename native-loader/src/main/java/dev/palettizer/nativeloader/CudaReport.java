package dev.palettizer.nativeloader;

import java.util.List;
import java.util.Objects;

/**
 * What the CUDA driver API reported on this machine.
 *
 * @param availability whether CUDA can be used, and why not
 * @param driverVersion the driver's CUDA version as {@code cuDriverGetVersion} encodes it
 *     (1000 * major + 10 * minor, so 12060 is 12.6), or 0 when the driver could not be asked
 * @param devices the devices found, empty when CUDA is unavailable
 */
public record CudaReport(Availability availability, int driverVersion, List<GpuDevice> devices) {

    public CudaReport {
        Objects.requireNonNull(availability, "availability");
        devices = List.copyOf(devices);
    }

    static CudaReport unavailable(String reason) {
        return new CudaReport(Availability.unavailable(reason), 0, List.of());
    }

    /** The driver version as "major.minor", for example "12.6"; "unknown" when it is 0. */
    public String driverVersionString() {
        return versionString(driverVersion);
    }

    static String versionString(int driverVersion) {
        return driverVersion == 0 ? "unknown" : driverVersion / 1000 + "." + driverVersion % 1000 / 10;
    }
}
