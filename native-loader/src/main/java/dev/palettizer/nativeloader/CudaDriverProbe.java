package dev.palettizer.nativeloader;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * Asks the NVIDIA driver, through the CUDA driver API in {@code libcuda.so.1}, which GPUs this
 * machine has. Uses FFM only, so it works without JCuda on the class path. Never throws (short of
 * a {@link VirtualMachineError}): a missing driver or any failing call becomes an unavailable
 * {@link CudaReport} whose reason names the call and its {@code CUresult}.
 *
 * <p>{@link #get()} probes once per JVM and caches the answer; {@link #probe()} asks again.
 */
public final class CudaDriverProbe {

    static final String LIBRARY = "libcuda.so.1";

    private static final int CUDA_SUCCESS = 0;
    private static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    private static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    /** Device names are far shorter; the driver truncates rather than overflows if one is not. */
    private static final int NAME_CAPACITY = 256;

    private CudaDriverProbe() {
    }

    /** Initialised by the JVM on first access, which makes the one probe lazy and thread-safe. */
    private static final class Probed {
        static final CudaReport INSTANCE = probe();
    }

    /** This machine's answer, probed on the first call and cached for the life of the JVM. */
    public static CudaReport get() {
        return Probed.INSTANCE;
    }

    /** Probes {@code libcuda.so.1}, unless {@code palettizer.probe.disable} lists {@code cuda}. */
    public static CudaReport probe() {
        if (DisabledProbes.anyOf("cuda")) {
            return CudaReport.unavailable(DisabledProbes.REASON);
        }
        return probe(LIBRARY);
    }

    /** Probes the named driver library; tests point it at a stand-in. */
    static CudaReport probe(String libraryName) {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup symbols = NativeLibraryProbe.require(libraryName,
                    libraryName + " not found (no NVIDIA driver on this machine)");
            return new DriverQueries(new NativeFunctions(libraryName, symbols), arena).report();
        } catch (ProbeFailure e) {
            return CudaReport.unavailable(e.getMessage());
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            return CudaReport.unavailable("probing CUDA through " + libraryName + " failed unexpectedly: " + e);
        }
    }

    /** The driver calls of one probe, sharing one confined arena for their out-parameters. */
    private static final class DriverQueries {

        private final Arena arena;
        private final MethodHandle cuInit;
        private final MethodHandle cuDriverGetVersion;
        private final MethodHandle cuDeviceGetCount;
        private final MethodHandle cuDeviceGet;
        private final MethodHandle cuDeviceGetName;
        private final MethodHandle cuDeviceTotalMem;
        private final MethodHandle cuDeviceGetAttribute;

        DriverQueries(NativeFunctions cuda, Arena arena) throws ProbeFailure {
            this.arena = arena;
            // CUresult and CUdevice are C ints; size_t is 64-bit on every platform JDK 25 runs on.
            cuInit = cuda.bind("cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
            cuDriverGetVersion = cuda.bind("cuDriverGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            cuDeviceGetCount = cuda.bind("cuDeviceGetCount", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            cuDeviceGet = cuda.bind("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            cuDeviceGetName = cuda.bind("cuDeviceGetName",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
            cuDeviceTotalMem = cuda.bind("cuDeviceTotalMem_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            cuDeviceGetAttribute = cuda.bind("cuDeviceGetAttribute",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        }

        CudaReport report() throws Throwable {
            // Asked before cuInit, which it does not need, so that a failing cuInit (for example
            // INSUFFICIENT_DRIVER) is still reported alongside the driver's version.
            MemorySegment version = arena.allocate(JAVA_INT);
            check("cuDriverGetVersion", (int) cuDriverGetVersion.invokeExact(version));
            int driverVersion = version.get(JAVA_INT, 0);
            String driver = "NVIDIA driver for CUDA " + CudaReport.versionString(driverVersion);
            try {
                check("cuInit(0)", (int) cuInit.invokeExact(0));
                List<GpuDevice> devices = devices();
                Availability availability = devices.isEmpty()
                        ? Availability.unavailable(driver + " reports no CUDA devices"
                                + " (check nvidia-smi and CUDA_VISIBLE_DEVICES)")
                        : Availability.available(driver + ", " + devices.size() + " device(s)");
                return new CudaReport(availability, driverVersion, devices);
            } catch (ProbeFailure e) {
                return new CudaReport(Availability.unavailable(e.getMessage() + "; " + driver),
                        driverVersion, List.of());
            }
        }

        private List<GpuDevice> devices() throws Throwable {
            MemorySegment intOut = arena.allocate(JAVA_INT);
            check("cuDeviceGetCount", (int) cuDeviceGetCount.invokeExact(intOut));
            int count = intOut.get(JAVA_INT, 0);
            List<GpuDevice> devices = new ArrayList<>(count);
            for (int ordinal = 0; ordinal < count; ordinal++) {
                devices.add(device(ordinal));
            }
            return devices;
        }

        private GpuDevice device(int ordinal) throws Throwable {
            MemorySegment handleOut = arena.allocate(JAVA_INT);
            check("cuDeviceGet(" + ordinal + ")", (int) cuDeviceGet.invokeExact(handleOut, ordinal));
            int device = handleOut.get(JAVA_INT, 0);

            MemorySegment name = arena.allocate(NAME_CAPACITY);
            check("cuDeviceGetName", (int) cuDeviceGetName.invokeExact(name, NAME_CAPACITY, device));

            MemorySegment bytes = arena.allocate(JAVA_LONG);
            check("cuDeviceTotalMem_v2", (int) cuDeviceTotalMem.invokeExact(bytes, device));

            return new GpuDevice(ordinal, name.getString(0), bytes.get(JAVA_LONG, 0),
                    attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                    attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR));
        }

        private int attribute(int device, int attribute) throws Throwable {
            MemorySegment value = arena.allocate(JAVA_INT);
            check("cuDeviceGetAttribute(" + attribute + ")",
                    (int) cuDeviceGetAttribute.invokeExact(value, attribute, device));
            return value.get(JAVA_INT, 0);
        }
    }

    private static void check(String call, int result) throws ProbeFailure {
        if (result != CUDA_SUCCESS) {
            throw new ProbeFailure(call + " failed with " + describe(result));
        }
    }

    /** Names the CUresults a user is likely to meet and says what to do about them. */
    static String describe(int result) {
        return switch (result) {
            case 100 -> "CUDA_ERROR_NO_DEVICE (100): no CUDA-capable GPU is visible"
                    + " (check nvidia-smi and CUDA_VISIBLE_DEVICES)";
            case 35 -> "CUDA_ERROR_INSUFFICIENT_DRIVER (35): the NVIDIA driver is too old (update it)";
            case 34 -> "CUDA_ERROR_STUB_LIBRARY (34): this libcuda is the CUDA toolkit's stub, not the driver"
                    + " (remove the toolkit's lib/stubs directory from LD_LIBRARY_PATH)";
            case 3 -> "CUDA_ERROR_NOT_INITIALIZED (3)";
            case 999 -> "CUDA_ERROR_UNKNOWN (999): check that the nvidia kernel module is loaded (dmesg, nvidia-smi)";
            default -> "code " + result;
        };
    }
}
