package dev.palettizer.backend;

import dev.palettizer.nativeloader.Availability;
import java.util.List;

/**
 * One kind of backend (java, opencl, cuda), found through {@link java.util.ServiceLoader}.
 *
 * <p>Reporting a provider's name, rank and devices never throws and loads no more native code than
 * a probe needs; only {@link #create} builds a backend, and it throws {@link BackendException}
 * (status NOT_AVAILABLE) with the probe's reason when it cannot.
 */
public interface BackendProvider {

    /** The name users pass to {@code --backend}: "java", "opencl", "cuda". */
    String name();

    /** Preference of {@code --backend auto} among providers with a usable GPU device; lower wins. */
    int rank();

    /** The devices this provider could run on, usable or not, each with the reason when not. */
    List<DeviceInfo> devices();

    /**
     * Whether the provider can run here at all, or why not, for example a missing driver or
     * binding, which leaves no device to give the reason. Never throws. The default judges by
     * {@link #devices()}; providers whose runtime can be missing say what is missing instead.
     */
    default Availability availability() {
        long usable = devices().stream().filter(device -> device.availability().available()).count();
        return usable > 0 ? Availability.available(usable + " usable device(s)")
                : Availability.unavailable("no usable device");
    }

    /**
     * A backend on the requested device.
     *
     * @throws BackendException when the provider or the device is not usable here
     */
    Backend create(BackendRequest request);
}
