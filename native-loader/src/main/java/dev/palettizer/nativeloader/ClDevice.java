package dev.palettizer.nativeloader;

import java.util.Objects;

/**
 * One OpenCL device as its platform reports it.
 *
 * @param index the device's position in its platform's {@code clGetDeviceIDs} list
 * @param name {@code CL_DEVICE_NAME}
 * @param type {@code CL_DEVICE_TYPE} as text: "CPU", "GPU", "ACCELERATOR", "CUSTOM", or several
 *     joined by "+" when a device sets more than one bit
 * @param globalMemoryBytes {@code CL_DEVICE_GLOBAL_MEM_SIZE}
 */
public record ClDevice(int index, String name, String type, long globalMemoryBytes) {

    public ClDevice {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
    }
}
