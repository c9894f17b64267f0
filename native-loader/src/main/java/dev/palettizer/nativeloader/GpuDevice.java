package dev.palettizer.nativeloader;

import java.util.Objects;

/**
 * One CUDA device as the driver reports it.
 *
 * @param index the device ordinal, as used by {@code cuDeviceGet} and {@code CUDA_VISIBLE_DEVICES}
 * @param name the marketing name, for example "NVIDIA H100 80GB HBM3"
 * @param totalMemoryBytes the device's global memory
 * @param ccMajor the compute capability's major number (9 for sm_90)
 * @param ccMinor the compute capability's minor number (0 for sm_90)
 */
public record GpuDevice(int index, String name, long totalMemoryBytes, int ccMajor, int ccMinor) {

    public GpuDevice {
        Objects.requireNonNull(name, "name");
    }

    /** The compute capability as CUDA writes it, for example "9.0". */
    public String computeCapability() {
        return ccMajor + "." + ccMinor;
    }
}
