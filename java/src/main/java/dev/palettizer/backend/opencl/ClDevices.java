package dev.palettizer.backend.opencl;

import static org.lwjgl.opencl.CL10.CL_DEVICE_AVAILABLE;
import static org.lwjgl.opencl.CL10.CL_DEVICE_COMPILER_AVAILABLE;
import static org.lwjgl.opencl.CL10.CL_DEVICE_EXTENSIONS;
import static org.lwjgl.opencl.CL10.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.lwjgl.opencl.CL10.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.lwjgl.opencl.CL10.CL_DEVICE_MAX_MEM_ALLOC_SIZE;
import static org.lwjgl.opencl.CL10.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.lwjgl.opencl.CL10.CL_DEVICE_NAME;
import static org.lwjgl.opencl.CL10.CL_DEVICE_NOT_FOUND;
import static org.lwjgl.opencl.CL10.CL_DEVICE_TYPE;
import static org.lwjgl.opencl.CL10.CL_DEVICE_TYPE_ALL;
import static org.lwjgl.opencl.CL10.CL_DEVICE_TYPE_GPU;
import static org.lwjgl.opencl.CL10.CL_PLATFORM_NAME;
import static org.lwjgl.opencl.CL10.clGetDeviceIDs;
import static org.lwjgl.opencl.CL10.clGetDeviceInfo;
import static org.lwjgl.opencl.CL10.clGetPlatformIDs;
import static org.lwjgl.opencl.CL10.clGetPlatformInfo;
import static org.lwjgl.opencl.CL11.CL_DEVICE_OPENCL_C_VERSION;

import dev.palettizer.nativeloader.Availability;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

/** Every OpenCL device of every platform, in platform then device order, through LWJGL. */
final class ClDevices {
    private ClDevices() {}

    /** All devices; an empty list when OpenCL is unavailable ({@link ClLibrary#availability()} says why). */
    static List<OpenClDevice> list() {
        if (!ClLibrary.availability().available()) {
            return List.of();
        }
        List<OpenClDevice> out = new ArrayList<>();
        for (long platform : platforms()) {
            String platformName = platformString(platform, CL_PLATFORM_NAME).strip();
            for (long device : devices(platform)) {
                out.add(describe(out.size(), platform, device, platformName));
            }
        }
        return out;
    }

    private static long[] platforms() {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer count = stack.mallocInt(1);
            ClErrors.check(clGetPlatformIDs(null, count), "clGetPlatformIDs");
            PointerBuffer ids = stack.mallocPointer(count.get(0));
            ClErrors.check(clGetPlatformIDs(ids, (IntBuffer) null), "clGetPlatformIDs");
            return handles(ids);
        }
    }

    private static long[] devices(long platform) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer count = stack.mallocInt(1);
            int code = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, null, count);
            if (code == CL_DEVICE_NOT_FOUND) {
                return new long[0];
            }
            ClErrors.check(code, "clGetDeviceIDs");
            PointerBuffer ids = stack.mallocPointer(count.get(0));
            ClErrors.check(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, ids, (IntBuffer) null), "clGetDeviceIDs");
            return handles(ids);
        }
    }

    private static long[] handles(PointerBuffer ids) {
        long[] out = new long[ids.remaining()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ids.get(i);
        }
        return out;
    }

    private static OpenClDevice describe(int index, long platform, long device, String platformName) {
        String name = deviceString(device, CL_DEVICE_NAME).strip();
        boolean gpu = (deviceLong(device, CL_DEVICE_TYPE) & CL_DEVICE_TYPE_GPU) != 0;
        long maxGroup = deviceSize(device, CL_DEVICE_MAX_WORK_GROUP_SIZE);
        long maxAlloc = deviceLong(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
        long global = deviceLong(device, CL_DEVICE_GLOBAL_MEM_SIZE);
        String detail = String.format(Locale.ROOT, "%s on %s, %s, %d compute units, %.1f GiB", name, platformName,
                deviceString(device, CL_DEVICE_OPENCL_C_VERSION).strip(),
                deviceInt(device, CL_DEVICE_MAX_COMPUTE_UNITS), global / (double) (1L << 30));
        Availability availability;
        if (deviceInt(device, CL_DEVICE_AVAILABLE) == 0) {
            availability = Availability.unavailable(detail + ": the device reports itself unavailable");
        } else if (deviceInt(device, CL_DEVICE_COMPILER_AVAILABLE) == 0) {
            availability = Availability.unavailable(detail + ": no OpenCL C compiler for it");
        } else if (!deviceString(device, CL_DEVICE_EXTENSIONS).contains("cl_khr_fp64")) {
            availability = Availability.unavailable(detail + ": no fp64 (cl_khr_fp64), which the deterministic"
                    + " double-precision sums need");
        } else {
            availability = Availability.available(detail);
        }
        return new OpenClDevice(index, platform, device, name, platformName, gpu, availability, maxGroup, maxAlloc,
                global);
    }

    /** A clGet*Info call for a string parameter: with a null value it reports the size. */
    private interface StringQuery {
        int call(ByteBuffer value, PointerBuffer size);
    }

    private static String platformString(long platform, int param) {
        return string((value, size) -> clGetPlatformInfo(platform, param, value, size), "clGetPlatformInfo");
    }

    private static String deviceString(long device, int param) {
        return string((value, size) -> clGetDeviceInfo(device, param, value, size), "clGetDeviceInfo");
    }

    private static String string(StringQuery query, String call) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            ClErrors.check(query.call(null, size), call);
            ByteBuffer value = MemoryUtil.memAlloc((int) size.get(0));
            try {
                ClErrors.check(query.call(value, null), call);
                return MemoryUtil.memUTF8(value, Math.max(0, value.remaining() - 1));
            } finally {
                MemoryUtil.memFree(value);
            }
        }
    }

    /** cl_ulong and cl_bitfield parameters. */
    private static long deviceLong(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer value = stack.mallocLong(1);
            ClErrors.check(clGetDeviceInfo(device, param, value, null), "clGetDeviceInfo");
            return value.get(0);
        }
    }

    /** cl_uint and cl_bool parameters. */
    private static int deviceInt(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer value = stack.mallocInt(1);
            ClErrors.check(clGetDeviceInfo(device, param, value, null), "clGetDeviceInfo");
            return value.get(0);
        }
    }

    /** size_t parameters. */
    private static long deviceSize(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer value = stack.mallocPointer(1);
            ClErrors.check(clGetDeviceInfo(device, param, value, null), "clGetDeviceInfo");
            return value.get(0);
        }
    }
}
