package dev.palettizer.backend;

import dev.palettizer.nativeloader.Availability;
import java.util.List;
import java.util.Objects;

/** What {@code palettizer backends} shows for one backend name. */
public sealed interface BackendStatus {

    String name();

    /**
     * A provider this build has, as it reported itself.
     *
     * @param rank its preference under auto; lower wins
     * @param availability whether it can run here at all, or why not
     * @param devices its devices, usable or not
     */
    record Built(String name, int rank, Availability availability, List<DeviceInfo> devices) implements BackendStatus {
        public Built {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(availability, "availability");
            devices = List.copyOf(devices);
        }
    }

    /** A backend this project defines that this build does not contain. */
    record NotBuilt(String name, String reason) implements BackendStatus {
        public NotBuilt {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(reason, "reason");
        }
    }
}
