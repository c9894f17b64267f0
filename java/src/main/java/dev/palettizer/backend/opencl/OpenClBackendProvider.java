package dev.palettizer.backend.opencl;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.BackendException;
import dev.palettizer.backend.BackendException.Status;
import dev.palettizer.backend.BackendProvider;
import dev.palettizer.backend.BackendRequest;
import dev.palettizer.backend.DeviceInfo;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The OpenCL backend through LWJGL: every device of every platform, in platform then device order.
 * Without a request, the first usable GPU is chosen, else the first usable device (PoCL's CPU device
 * on machines without a GPU).
 */
public final class OpenClBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public int rank() {
        return 20;
    }

    /**
     * Once OpenCL is loaded here (a backend was created) the listing is this process's; before, a
     * child JVM lists the devices so that merely asking does not load every ICD here.
     */
    @Override
    public List<DeviceInfo> devices() {
        if (!ClLibrary.loaded() && ChildDeviceListing.enabled()) {
            Optional<List<DeviceInfo>> listed = ChildListing.DEVICES;
            if (listed.isPresent()) {
                return listed.get();
            }
        }
        try {
            return ClDevices.list().stream().map(OpenClDevice::info).toList();
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            // create() reports the failure in full; a listing must not throw.
            return List.of();
        }
    }

    /** One child per JVM: the devices do not change while it runs. */
    private static final class ChildListing {
        static final Optional<List<DeviceInfo>> DEVICES = ChildDeviceListing.list();
    }

    @Override
    public Backend create(BackendRequest request) {
        ClLibrary.require();
        List<OpenClDevice> all = ClDevices.list();
        if (all.isEmpty()) {
            throw new BackendException(Status.NOT_AVAILABLE, "OpenCL has no device on any platform ("
                    + ClLibrary.availability().detail() + ")");
        }
        OpenClDevice d = select(all, request.device());
        if (!d.availability().available()) {
            throw new BackendException(Status.NOT_AVAILABLE, "OpenCL device " + d.index() + " cannot be used: "
                    + d.availability().detail());
        }
        return new OpenClBackend(d, request.pool(), OpenClBackend.defaultBudget(d));
    }

    /** By index, or by case-insensitive substring of the device or platform name; null picks the default. */
    static OpenClDevice select(List<OpenClDevice> all, String wanted) {
        if (wanted == null || wanted.isBlank()) {
            return all.stream().filter(d -> d.gpu() && d.availability().available()).findFirst()
                    .or(() -> all.stream().filter(d -> d.availability().available()).findFirst())
                    .orElse(all.getFirst());
        }
        String w = wanted.strip();
        if (w.length() < 10 && w.chars().allMatch(Character::isDigit)) {
            int index = Integer.parseInt(w);
            if (index < all.size()) {
                return all.get(index);
            }
            throw new BackendException(Status.NOT_AVAILABLE, "no OpenCL device " + index + "; " + listing(all));
        }
        String needle = w.toLowerCase(Locale.ROOT);
        return all.stream()
                .filter(d -> (d.name() + " " + d.platformName()).toLowerCase(Locale.ROOT).contains(needle))
                .findFirst()
                .orElseThrow(() -> new BackendException(Status.NOT_AVAILABLE,
                        "no OpenCL device matches '" + w + "'; " + listing(all)));
    }

    private static String listing(List<OpenClDevice> all) {
        return "devices: " + all.stream().map(d -> d.index() + ": " + d.name() + " (" + d.platformName() + ")")
                .collect(Collectors.joining(", "));
    }
}
