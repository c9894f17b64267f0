package dev.palettizer.backend;

import dev.palettizer.nativeloader.Availability;
import java.util.List;

/**
 * The pure-Java reference backend: one CPU device, always available, and the one {@code auto}
 * falls back to. Ranked last so that any usable GPU backend comes first.
 */
public final class JavaBackendProvider implements BackendProvider {

    static final String NAME = "java";
    static final int RANK = 100;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int rank() {
        return RANK;
    }

    @Override
    public List<DeviceInfo> devices() {
        return List.of(new DeviceInfo(0, "Java on " + Runtime.getRuntime().availableProcessors() + " CPU cores",
                false, Availability.available("pure Java reference")));
    }

    @Override
    public Availability availability() {
        return Availability.available("pure Java reference, always available");
    }

    @Override
    public Backend create(BackendRequest request) {
        DeviceInfo.select(NAME, devices(), request.device());
        return new JavaBackend(request.pool());
    }
}
