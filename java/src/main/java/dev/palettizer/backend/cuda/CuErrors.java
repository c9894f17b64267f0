package dev.palettizer.backend.cuda;

import dev.palettizer.backend.BackendException;
import dev.palettizer.backend.BackendException.Status;
import jcuda.driver.CUresult;

/**
 * CUDA driver results: their names (from JCuda's {@link CUresult}, which needs no native code), the
 * {@link Status} each maps to, and the check every driver call goes through.
 */
final class CuErrors {
    /** A driver too old for the CUDA version JCuda was built against; JCuda 12.6.0's {@link CUresult} lacks it. */
    static final int INSUFFICIENT_DRIVER = 35;

    private CuErrors() {}

    /** Throws a {@link BackendException} naming the call and the CUDA error when {@code result} is not CUDA_SUCCESS. */
    static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw failure(result, call);
        }
    }

    static BackendException failure(int result, String call) {
        return new BackendException(status(result), "CUDA " + call + " failed with " + name(result) + " (" + result + ")");
    }

    static Status status(int result) {
        return switch (result) {
            case CUresult.CUDA_ERROR_OUT_OF_MEMORY -> Status.OUT_OF_MEMORY;
            case CUresult.CUDA_ERROR_NO_DEVICE, CUresult.CUDA_ERROR_INVALID_DEVICE, CUresult.CUDA_ERROR_NOT_INITIALIZED,
                 CUresult.CUDA_ERROR_DEINITIALIZED, INSUFFICIENT_DRIVER,
                 CUresult.CUDA_ERROR_STUB_LIBRARY, CUresult.CUDA_ERROR_DEVICE_UNAVAILABLE,
                 CUresult.CUDA_ERROR_NO_BINARY_FOR_GPU, CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION,
                 CUresult.CUDA_ERROR_SYSTEM_DRIVER_MISMATCH, CUresult.CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE ->
                    Status.NOT_AVAILABLE;
            case CUresult.CUDA_ERROR_NOT_SUPPORTED -> Status.NOT_SUPPORTED;
            case CUresult.CUDA_ERROR_UNKNOWN -> Status.UNKNOWN;
            default -> known(result) ? Status.DEVICE_ERROR : Status.UNKNOWN;
        };
    }

    /** The driver's name for the result, e.g. "CUDA_ERROR_OUT_OF_MEMORY"; "unknown CUDA error" for codes JCuda does not know. */
    static String name(int result) {
        if (result == INSUFFICIENT_DRIVER) {
            return "CUDA_ERROR_INSUFFICIENT_DRIVER";
        }
        return known(result) ? CUresult.stringFor(result) : "unknown CUDA error";
    }

    private static boolean known(int result) {
        return result == INSUFFICIENT_DRIVER || CUresult.stringFor(result).startsWith("CUDA_");
    }
}
