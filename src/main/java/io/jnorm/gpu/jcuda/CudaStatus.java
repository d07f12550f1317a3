package io.jnorm.gpu.jcuda;

import io.jnorm.gpu.GpuException;
import java.util.Map;
import jcuda.CudaException;
import jcuda.driver.CUresult;

/**
 * Turns CUresult codes into {@link GpuException}s whose message says what failed and what to do.
 *
 * <p>Pure Java: {@link CUresult} is a table of constants and loads no native code, so all of this
 * is unit-tested on machines without a GPU.
 */
final class CudaStatus {

    /** Codes that JCuda 12.6's CUresult does not name, from cuda.h. */
    private static final Map<Integer, String> MISSING_FROM_JCUDA = Map.of(
            35, "CUDA_ERROR_INSUFFICIENT_DRIVER",
            36, "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER",
            -1, "JCUDA_INTERNAL_ERROR");

    /** Failures after which the CUDA context is unusable until the process exits. */
    private static final java.util.Set<String> STICKY = java.util.Set.of(
            "CUDA_ERROR_ILLEGAL_ADDRESS", "CUDA_ERROR_LAUNCH_FAILED", "CUDA_ERROR_MISALIGNED_ADDRESS",
            "CUDA_ERROR_ILLEGAL_INSTRUCTION", "CUDA_ERROR_HARDWARE_STACK_ERROR", "CUDA_ERROR_INVALID_ADDRESS_SPACE",
            "CUDA_ERROR_INVALID_PC", "CUDA_ERROR_ASSERT", "CUDA_ERROR_LAUNCH_TIMEOUT");

    private static final Map<String, String> HINTS = Map.ofEntries(
            Map.entry("CUDA_ERROR_INVALID_VALUE", "an argument was out of range for the driver (a size, an offset, a launch dimension)"),
            Map.entry("CUDA_ERROR_OUT_OF_MEMORY", "the device is out of memory"),
            Map.entry("CUDA_ERROR_NOT_INITIALIZED", "cuInit has not been called (a jnorm bug: JCudaDriver calls it first)"),
            Map.entry("CUDA_ERROR_DEINITIALIZED", "the CUDA driver is shutting down"),
            Map.entry("CUDA_ERROR_STUB_LIBRARY", "libcuda.so.1 is the CUDA toolkit's stub, not a real driver: install the NVIDIA driver"),
            Map.entry("CUDA_ERROR_INSUFFICIENT_DRIVER", "the NVIDIA driver is older than the CUDA version JCuda 12.6 was built for: update the driver"),
            Map.entry("CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER", "this call needs a newer NVIDIA driver"),
            Map.entry("CUDA_ERROR_NO_DEVICE", "no CUDA device is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)"),
            Map.entry("CUDA_ERROR_INVALID_DEVICE", "no CUDA device has that ordinal"),
            Map.entry("CUDA_ERROR_DEVICE_UNAVAILABLE", "the device is busy or unavailable (exclusive compute mode, or in use by another process)"),
            Map.entry("CUDA_ERROR_INVALID_CONTEXT", "no valid CUDA context is current on this thread"),
            Map.entry("CUDA_ERROR_NO_BINARY_FOR_GPU", "the module has no code this GPU can run"),
            Map.entry("CUDA_ERROR_INVALID_PTX", "the driver's JIT rejected the PTX (see the JIT log)"),
            Map.entry("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the driver is too old for this PTX: jnorm's PTX is ISA 9.0 from nvcc 13, which needs a CUDA 13.0 driver (R580 or newer)"),
            Map.entry("CUDA_ERROR_JIT_COMPILER_NOT_FOUND", "the driver's PTX JIT compiler library is missing from the driver installation"),
            Map.entry("CUDA_ERROR_JIT_COMPILATION_DISABLED", "PTX JIT compilation is disabled (CUDA_DISABLE_PTX_JIT is set?)"),
            Map.entry("CUDA_ERROR_INVALID_HANDLE", "a module, function, event or pointer handle is invalid (used after close?)"),
            Map.entry("CUDA_ERROR_NOT_FOUND", "no kernel or symbol of that name in the module"),
            Map.entry("CUDA_ERROR_NOT_READY", "the work has not completed yet"),
            Map.entry("CUDA_ERROR_ILLEGAL_ADDRESS", "a kernel read or wrote an invalid device address; run the same launch on the PTX emulator, whose sanitizer names the thread and PTX line"),
            Map.entry("CUDA_ERROR_MISALIGNED_ADDRESS", "a kernel accessed memory at an address not aligned to the access size; the PTX emulator reports which one"),
            Map.entry("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "the block needs more registers or shared memory than a multiprocessor has; use smaller blocks"),
            Map.entry("CUDA_ERROR_LAUNCH_TIMEOUT", "the kernel ran longer than the display watchdog allows"),
            Map.entry("CUDA_ERROR_LAUNCH_FAILED", "the kernel faulted"),
            Map.entry("CUDA_ERROR_ILLEGAL_INSTRUCTION", "the kernel executed an illegal instruction"),
            Map.entry("CUDA_ERROR_HARDWARE_STACK_ERROR", "the kernel overflowed its call stack"),
            Map.entry("CUDA_ERROR_ASSERT", "a device-side assert failed"),
            Map.entry("CUDA_ERROR_INVALID_ADDRESS_SPACE", "a kernel used an address in the wrong state space"),
            Map.entry("CUDA_ERROR_INVALID_PC", "a kernel jumped to an invalid program counter"),
            Map.entry("CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE", "the cooperative grid is larger than can be resident at once"),
            Map.entry("CUDA_ERROR_NOT_PERMITTED", "the operation is not permitted"),
            Map.entry("CUDA_ERROR_NOT_SUPPORTED", "the device or driver does not support this operation"),
            Map.entry("CUDA_ERROR_SYSTEM_DRIVER_MISMATCH", "the user-space driver (libcuda) and the kernel module versions differ: reboot or reinstall the driver"),
            Map.entry("CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE", "the CUDA forward-compatibility package does not support this device"),
            Map.entry("JCUDA_INTERNAL_ERROR", "JCuda failed inside its JNI layer (out of host memory, or a null argument)"));

    private CudaStatus() {
    }

    /** The cuda.h name of a CUresult code. */
    static String name(int code) {
        String known = MISSING_FROM_JCUDA.get(code);
        if (known != null) {
            return known;
        }
        String name = CUresult.stringFor(code);
        return name.startsWith("INVALID CUresult") ? "CUDA_ERROR_" + code : name;
    }

    /**
     * The status name carried by a JCuda exception: JCuda's message is the CUresult name, or
     * "INVALID CUresult: N" for codes it does not know.
     */
    static String name(CudaException e) {
        String message = String.valueOf(e.getMessage()).trim();
        int colon = message.lastIndexOf(':');
        if (message.startsWith("INVALID CUresult") && colon >= 0) {
            try {
                return name(Integer.parseInt(message.substring(colon + 1).trim()));
            } catch (NumberFormatException ignored) {
                // fall through: keep JCuda's text
            }
        }
        return message.split("\\s")[0];
    }

    /** What the status means for the user; the bare name when there is nothing to add. */
    static String hint(String name) {
        String hint = HINTS.getOrDefault(name, name);
        if (STICKY.contains(name)) {
            hint += "; the CUDA context is now unusable, every later call in this process fails";
        }
        return hint;
    }

    static boolean isSticky(String name) {
        return STICKY.contains(name);
    }

    /** {@code "<name>: <what> failed: <hint>"}. */
    static GpuException exception(String name, String what) {
        return new GpuException(name, what + " failed: " + hint(name));
    }

    static GpuException exception(String name, String what, Throwable cause) {
        return new GpuException(name, what + " failed: " + hint(name), cause);
    }

    static GpuException exception(int code, String what) {
        return exception(name(code), what);
    }
}
