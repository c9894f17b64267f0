package dev.palettizer.backend;

import dev.palettizer.nativeloader.Availability;
import java.util.Objects;

/**
 * A device a backend can run on.
 *
 * @param index position in the provider's device list, as accepted by {@code --device}
 * @param name the device's name, e.g. "NVIDIA H100 80GB HBM3" or "pthread-AMD EPYC 7B13"
 * @param gpu whether it is a GPU (auto only picks GPU devices of accelerated providers)
 * @param availability whether it can be used, or why not
 */
public record DeviceInfo(int index, String name, boolean gpu, Availability availability) {
    public DeviceInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(availability, "availability");
    }
}
