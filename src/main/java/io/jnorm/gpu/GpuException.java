package io.jnorm.gpu;

/**
 * A failure reported by a GPU driver (real or emulated). Carries the driver's status code and
 * names what was being done: the call, the kernel, the launch geometry.
 */
public class GpuException extends RuntimeException {
    private final String status;

    public GpuException(String status, String message) {
        super(status + ": " + message);
        this.status = status;
    }

    public GpuException(String status, String message, Throwable cause) {
        super(status + ": " + message, cause);
        this.status = status;
    }

    /** The driver status, e.g. CUDA_ERROR_OUT_OF_MEMORY or EMU_OUT_OF_BOUNDS. */
    public String status() {
        return status;
    }
}
