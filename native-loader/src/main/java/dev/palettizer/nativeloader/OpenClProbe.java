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
import java.util.StringJoiner;

/**
 * Asks the OpenCL ICD loader, {@code libOpenCL.so.1}, which platforms and devices this machine
 * has. Uses FFM only, so it works without LWJGL on the class path. Never throws (short of a
 * {@link VirtualMachineError}): a missing loader, no installed ICD, or any failing call becomes an
 * unavailable {@link OpenClReport} whose reason names the call and its error code.
 *
 * <p>{@link #get()} probes once per JVM and caches the answer; {@link #probe()} asks again.
 */
public final class OpenClProbe {

    /** Debian's ocl-icd-libopencl1 installs only this name; the unversioned one needs the -dev package. */
    static final String LIBRARY = "libOpenCL.so.1";

    private static final int CL_SUCCESS = 0;
    private static final int CL_DEVICE_NOT_FOUND = -1;
    static final int CL_PLATFORM_NOT_FOUND_KHR = -1001;

    private static final int CL_PLATFORM_VERSION = 0x0901;
    private static final int CL_PLATFORM_NAME = 0x0902;
    private static final long CL_DEVICE_TYPE_CPU = 1L << 1;
    private static final long CL_DEVICE_TYPE_GPU = 1L << 2;
    private static final long CL_DEVICE_TYPE_ACCELERATOR = 1L << 3;
    private static final long CL_DEVICE_TYPE_CUSTOM = 1L << 4;
    private static final long CL_DEVICE_TYPE_ALL = 0xFFFFFFFFL;
    private static final int CL_DEVICE_TYPE = 0x1000;
    private static final int CL_DEVICE_GLOBAL_MEM_SIZE = 0x101F;
    private static final int CL_DEVICE_NAME = 0x102B;

    private static final String NO_PLATFORM =
            "no OpenCL platform installed (install an ICD, e.g. pocl-opencl-icd)";

    private OpenClProbe() {
    }

    /** Initialised by the JVM on first access, which makes the one probe lazy and thread-safe. */
    private static final class Probed {
        static final OpenClReport INSTANCE = probe();
    }

    /** This machine's answer, probed on the first call and cached for the life of the JVM. */
    public static OpenClReport get() {
        return Probed.INSTANCE;
    }

    /** Probes {@code libOpenCL.so.1}, unless {@code palettizer.probe.disable} lists {@code opencl}. */
    public static OpenClReport probe() {
        if (DisabledProbes.anyOf("opencl")) {
            return OpenClReport.unavailable(DisabledProbes.REASON);
        }
        return probe(LIBRARY);
    }

    /** Probes the named ICD loader; tests point it at a stand-in. */
    static OpenClReport probe(String libraryName) {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup symbols = NativeLibraryProbe.require(libraryName,
                    libraryName + " not found (install the OpenCL ICD loader"
                            + " and an ICD, e.g. ocl-icd-libopencl1 and pocl-opencl-icd)");
            return new LoaderQueries(new NativeFunctions(libraryName, symbols), arena).report();
        } catch (ProbeFailure e) {
            return OpenClReport.unavailable(e.getMessage());
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            return OpenClReport.unavailable("probing OpenCL through " + libraryName + " failed unexpectedly: " + e);
        }
    }

    /** The OpenCL calls of one probe, sharing one confined arena for their out-parameters. */
    private static final class LoaderQueries {

        private final Arena arena;
        private final MethodHandle clGetPlatformIDs;
        private final MethodHandle clGetPlatformInfo;
        private final MethodHandle clGetDeviceIDs;
        private final MethodHandle clGetDeviceInfo;

        LoaderQueries(NativeFunctions openCl, Arena arena) throws ProbeFailure {
            this.arena = arena;
            // cl_int and cl_uint are 32-bit, cl_device_type is a 64-bit cl_bitfield, handles are
            // pointers, and size_t is 64-bit on every platform JDK 25 runs on.
            clGetPlatformIDs = openCl.bind("clGetPlatformIDs",
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
            clGetPlatformInfo = openCl.bind("clGetPlatformInfo",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
            clGetDeviceIDs = openCl.bind("clGetDeviceIDs",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
            clGetDeviceInfo = openCl.bind("clGetDeviceInfo",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
        }

        OpenClReport report() throws Throwable {
            MemorySegment countOut = arena.allocate(JAVA_INT);
            int result = (int) clGetPlatformIDs.invokeExact(0, MemorySegment.NULL, countOut);
            // The ICD loader answers -1001 when it finds no ICD; some loaders answer 0 platforms.
            if (result == CL_PLATFORM_NOT_FOUND_KHR || result == CL_SUCCESS && countOut.get(JAVA_INT, 0) == 0) {
                return OpenClReport.unavailable(NO_PLATFORM);
            }
            check("clGetPlatformIDs", result);
            int count = countOut.get(JAVA_INT, 0);
            MemorySegment ids = arena.allocate(ADDRESS, count);
            check("clGetPlatformIDs", (int) clGetPlatformIDs.invokeExact(count, ids, countOut));

            List<ClPlatform> platforms = new ArrayList<>(count);
            int deviceCount = 0;
            for (int index = 0; index < count; index++) {
                ClPlatform platform = platform(index, ids.getAtIndex(ADDRESS, index));
                platforms.add(platform);
                deviceCount += platform.devices().size();
            }
            return new OpenClReport(Availability.available(
                    platforms.size() + " platform(s), " + deviceCount + " device(s)"), platforms);
        }

        private ClPlatform platform(int index, MemorySegment platform) throws Throwable {
            return new ClPlatform(index,
                    platformString(platform, CL_PLATFORM_NAME, "CL_PLATFORM_NAME"),
                    platformString(platform, CL_PLATFORM_VERSION, "CL_PLATFORM_VERSION"),
                    devices(platform));
        }

        private List<ClDevice> devices(MemorySegment platform) throws Throwable {
            MemorySegment countOut = arena.allocate(JAVA_INT);
            int result = (int) clGetDeviceIDs.invokeExact(platform, CL_DEVICE_TYPE_ALL, 0, MemorySegment.NULL, countOut);
            if (result == CL_DEVICE_NOT_FOUND) {
                return List.of();
            }
            check("clGetDeviceIDs", result);
            int count = countOut.get(JAVA_INT, 0);
            MemorySegment ids = arena.allocate(ADDRESS, count);
            check("clGetDeviceIDs", (int) clGetDeviceIDs.invokeExact(platform, CL_DEVICE_TYPE_ALL, count, ids, countOut));

            List<ClDevice> devices = new ArrayList<>(count);
            for (int index = 0; index < count; index++) {
                MemorySegment device = ids.getAtIndex(ADDRESS, index);
                devices.add(new ClDevice(index,
                        deviceString(device, CL_DEVICE_NAME, "CL_DEVICE_NAME"),
                        typeName(deviceLong(device, CL_DEVICE_TYPE, "CL_DEVICE_TYPE")),
                        deviceLong(device, CL_DEVICE_GLOBAL_MEM_SIZE, "CL_DEVICE_GLOBAL_MEM_SIZE")));
            }
            return devices;
        }

        private String platformString(MemorySegment platform, int param, String paramName) throws Throwable {
            String call = "clGetPlatformInfo(" + paramName + ")";
            MemorySegment sizeOut = arena.allocate(JAVA_LONG);
            check(call, (int) clGetPlatformInfo.invokeExact(platform, param, 0L, MemorySegment.NULL, sizeOut));
            MemorySegment value = arena.allocate(sizeOut.get(JAVA_LONG, 0));
            check(call, (int) clGetPlatformInfo.invokeExact(platform, param, value.byteSize(), value, MemorySegment.NULL));
            return value.getString(0);
        }

        private String deviceString(MemorySegment device, int param, String paramName) throws Throwable {
            String call = "clGetDeviceInfo(" + paramName + ")";
            MemorySegment sizeOut = arena.allocate(JAVA_LONG);
            check(call, (int) clGetDeviceInfo.invokeExact(device, param, 0L, MemorySegment.NULL, sizeOut));
            MemorySegment value = arena.allocate(sizeOut.get(JAVA_LONG, 0));
            check(call, (int) clGetDeviceInfo.invokeExact(device, param, value.byteSize(), value, MemorySegment.NULL));
            return value.getString(0);
        }

        /** For the 64-bit parameters: cl_device_type (a cl_bitfield) and cl_ulong sizes. */
        private long deviceLong(MemorySegment device, int param, String paramName) throws Throwable {
            MemorySegment value = arena.allocate(JAVA_LONG);
            check("clGetDeviceInfo(" + paramName + ")",
                    (int) clGetDeviceInfo.invokeExact(device, param, JAVA_LONG.byteSize(), value, MemorySegment.NULL));
            return value.get(JAVA_LONG, 0);
        }
    }

    /** CL_DEVICE_TYPE as text; the DEFAULT bit says nothing about the hardware, so it is left out. */
    static String typeName(long type) {
        StringJoiner names = new StringJoiner("+");
        if ((type & CL_DEVICE_TYPE_CPU) != 0) {
            names.add("CPU");
        }
        if ((type & CL_DEVICE_TYPE_GPU) != 0) {
            names.add("GPU");
        }
        if ((type & CL_DEVICE_TYPE_ACCELERATOR) != 0) {
            names.add("ACCELERATOR");
        }
        if ((type & CL_DEVICE_TYPE_CUSTOM) != 0) {
            names.add("CUSTOM");
        }
        return names.length() == 0 ? "UNKNOWN(0x" + Long.toHexString(type) + ")" : names.toString();
    }

    private static void check(String call, int result) throws ProbeFailure {
        if (result != CL_SUCCESS) {
            throw new ProbeFailure(call + " failed with " + describe(result));
        }
    }

    /** Names the OpenCL error codes a probe is likely to meet. */
    static String describe(int result) {
        return switch (result) {
            case CL_PLATFORM_NOT_FOUND_KHR -> "CL_PLATFORM_NOT_FOUND_KHR (-1001)";
            case CL_DEVICE_NOT_FOUND -> "CL_DEVICE_NOT_FOUND (-1)";
            case -5 -> "CL_OUT_OF_RESOURCES (-5)";
            case -6 -> "CL_OUT_OF_HOST_MEMORY (-6)";
            case -30 -> "CL_INVALID_VALUE (-30)";
            case -32 -> "CL_INVALID_PLATFORM (-32)";
            case -33 -> "CL_INVALID_DEVICE (-33)";
            default -> "code " + result;
        };
    }
}
