package dev.palettizer.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.palettizer.nativeloader.Availability;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceInfoTest {

    private static final List<DeviceInfo> DEVICES = List.of(
            new DeviceInfo(0, "NVIDIA H100 80GB HBM3", true, Availability.unavailable("in use by another process")),
            new DeviceInfo(1, "NVIDIA H100 80GB HBM3", true, Availability.available("ready")),
            new DeviceInfo(2, "NVIDIA L4", true, Availability.available("ready")));

    @Test
    void noRequestTakesTheFirstUsableDevice() {
        assertEquals(1, DeviceInfo.select("cuda", DEVICES, null).index());
    }

    @Test
    void requestByIndexOrPartOfTheName() {
        assertEquals(2, DeviceInfo.select("cuda", DEVICES, "2").index());
        assertEquals(2, DeviceInfo.select("cuda", DEVICES, " l4 ").index());
        assertEquals(1, DeviceInfo.select("cuda", DEVICES.subList(1, 3), "h100").index(),
                "digits inside names do not make a number an index");
    }

    @Test
    void badRequestsSayWhatIsThere() {
        assertEquals("backend 'cuda' has no device '7'; its devices: 0 (NVIDIA H100 80GB HBM3): in use by another"
                        + " process; 1 (NVIDIA H100 80GB HBM3); 2 (NVIDIA L4)",
                assertThrows(BackendException.class, () -> DeviceInfo.select("cuda", DEVICES, "7")).getMessage());
        assertEquals("device 'h100' matches several devices of backend 'cuda': 0 (NVIDIA H100 80GB HBM3): in use by"
                        + " another process; 1 (NVIDIA H100 80GB HBM3); give an index",
                assertThrows(BackendException.class, () -> DeviceInfo.select("cuda", DEVICES, "h100")).getMessage());
        BackendException unusable = assertThrows(BackendException.class, () -> DeviceInfo.select("cuda", DEVICES, "0"));
        assertEquals(BackendException.Status.NOT_AVAILABLE, unusable.status());
        assertEquals("device 0 (NVIDIA H100 80GB HBM3) of backend 'cuda' is not usable: in use by another process",
                unusable.getMessage());
        assertEquals("backend 'cuda' has no usable device: none",
                assertThrows(BackendException.class, () -> DeviceInfo.select("cuda", List.of(), null)).getMessage());
    }
}
