package dev.palettizer.backend;

import dev.palettizer.nativeloader.Availability;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

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

    /**
     * The usable device {@code request} names among a backend's {@code devices}, the way
     * {@link BackendRequest#device()} documents it: null for the first usable device, else an index
     * (digits only) or a case-insensitive part of exactly one device's name.
     *
     * @throws BackendException NOT_AVAILABLE when no device or several match, or the match is not usable
     */
    public static DeviceInfo select(String backend, List<DeviceInfo> devices, String request) {
        if (request == null) {
            return devices.stream().filter(d -> d.availability().available()).findFirst()
                    .orElseThrow(() -> notAvailable("backend '" + backend + "' has no usable device: " + list(devices)));
        }
        List<DeviceInfo> matches = devices.stream().filter(d -> d.matches(request)).toList();
        if (matches.isEmpty()) {
            throw notAvailable("backend '" + backend + "' has no device '" + request + "'; its devices: " + list(devices));
        }
        if (matches.size() > 1) {
            throw notAvailable("device '" + request + "' matches several devices of backend '" + backend + "': "
                    + list(matches) + "; give an index");
        }
        DeviceInfo device = matches.getFirst();
        if (!device.availability().available()) {
            throw notAvailable("device " + device.label() + " of backend '" + backend + "' is not usable: "
                    + device.availability().detail());
        }
        return device;
    }

    /** "0 (NVIDIA H100 80GB HBM3)". */
    public String label() {
        return index + " (" + name + ")";
    }

    /** A number is an index only, since names such as "NVIDIA H100" contain digits too. */
    private boolean matches(String request) {
        String wanted = request.strip().toLowerCase(Locale.ROOT);
        if (wanted.matches("\\d+")) {
            return wanted.equals(Integer.toString(index));
        }
        return !wanted.isEmpty() && name.toLowerCase(Locale.ROOT).contains(wanted);
    }

    private static String list(List<DeviceInfo> devices) {
        if (devices.isEmpty()) {
            return "none";
        }
        return devices.stream()
                .map(d -> d.label() + (d.availability().available() ? "" : ": " + d.availability().detail()))
                .collect(Collectors.joining("; "));
    }

    private static BackendException notAvailable(String message) {
        return new BackendException(BackendException.Status.NOT_AVAILABLE, message);
    }
}
