package dev.palettizer.backend.opencl;

import dev.palettizer.backend.DeviceInfo;
import dev.palettizer.nativeloader.Availability;

/**
 * One OpenCL device as this backend sees it: handles, what it reports, and whether the backend can
 * run on it (it needs a compiler and fp64 for its deterministic double-precision sums).
 *
 * @param index position in the list over all platforms, as {@code --device} accepts it
 */
record OpenClDevice(int index, long platform, long device, String name, String platformName, boolean gpu,
                    Availability availability, long maxWorkGroupSize, long maxAllocBytes, long globalMemoryBytes) {

    DeviceInfo info() {
        return new DeviceInfo(index, name, gpu, availability);
    }
}
