package dev.palettizer.backend.cuda;

import dev.palettizer.backend.Backend;
import dev.palettizer.backend.BackendException;
import dev.palettizer.backend.BackendException.Status;
import dev.palettizer.backend.BackendProvider;
import dev.palettizer.backend.BackendRequest;
import dev.palettizer.backend.DeviceInfo;
import dev.palettizer.nativeloader.Availability;
import dev.palettizer.nativeloader.CudaDriverProbe;
import dev.palettizer.nativeloader.CudaReport;
import dev.palettizer.nativeloader.GpuDevice;
import dev.palettizer.nativeloader.JcudaProbe;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The CUDA backend through JCuda's driver API: every device the driver reports, first in
 * {@code --backend auto}'s order. Listing devices and availability uses the native-loader's probes
 * only (the FFM driver probe, then whether JCuda's natives load), so a machine without a driver
 * never touches JCuda; {@link #create} says the probe's reason, such as "libcuda.so.1 not found (no
 * NVIDIA driver on this machine)".
 */
public final class CudaBackendProvider implements BackendProvider {
    static final String NAME = "cuda";
    static final int RANK = 0;
    /** The fatbin's lowest target (compute_75 PTX, kernels/cuda/nvcc.flags). */
    static final int MIN_CC_MAJOR = 7;
    static final int MIN_CC_MINOR = 5;

    private final Supplier<CudaReport> driver;
    private final Supplier<Availability> jcuda;

    /** The provider ServiceLoader makes: this machine's cached probes. */
    public CudaBackendProvider() {
        this(CudaDriverProbe::get, JcudaProbe::get);
    }

    /** Tests inject probe answers. */
    CudaBackendProvider(Supplier<CudaReport> driver, Supplier<Availability> jcuda) {
        this.driver = driver;
        this.jcuda = jcuda;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int rank() {
        return RANK;
    }

    /** The driver's reason when it is unusable, else JCuda's when its natives do not load, else the usable devices. */
    @Override
    public Availability availability() {
        CudaReport report = driver.get();
        if (!report.availability().available()) {
            return report.availability();
        }
        Availability binding = jcuda.get();
        if (!binding.available()) {
            return binding;
        }
        long usable = devices().stream().filter(d -> d.availability().available()).count();
        return usable > 0
                ? Availability.available(report.availability().detail() + "; " + binding.detail())
                : Availability.unavailable("no CUDA device of compute capability " + MIN_CC_MAJOR + "." + MIN_CC_MINOR
                        + " or newer (" + report.availability().detail() + ")");
    }

    /** Every device the driver reports, as a GPU; those below compute capability 7.5 unusable, with why. */
    @Override
    public List<DeviceInfo> devices() {
        return driver.get().devices().stream().map(CudaBackendProvider::info).toList();
    }

    static DeviceInfo info(GpuDevice d) {
        String detail = String.format(Locale.ROOT, "%s, compute capability %s, %.1f GiB", d.name(),
                d.computeCapability(), d.totalMemoryBytes() / (double) (1L << 30));
        boolean supported = d.ccMajor() > MIN_CC_MAJOR || d.ccMajor() == MIN_CC_MAJOR && d.ccMinor() >= MIN_CC_MINOR;
        return new DeviceInfo(d.index(), d.name(), true, supported ? Availability.available(detail)
                : Availability.unavailable(detail + ": below " + MIN_CC_MAJOR + "." + MIN_CC_MINOR
                        + ", the kernels' lowest target"));
    }

    @Override
    public Backend create(BackendRequest request) {
        return create(request, 0);
    }

    /** A backend with an explicit device budget in bytes (0: three quarters of the free memory); for tests and benchmarks. */
    public CudaBackend create(BackendRequest request, long budgetBytes) {
        for (Availability a : List.of(driver.get().availability(), jcuda.get())) {
            if (!a.available()) {
                throw new BackendException(Status.NOT_AVAILABLE, "CUDA is not available: " + a.detail());
            }
        }
        DeviceInfo device = DeviceInfo.select(NAME, devices(), request.device());
        return new CudaBackend(device.index(), device.name(), request.pool(), budgetBytes);
    }
}
