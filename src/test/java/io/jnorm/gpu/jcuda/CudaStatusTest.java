package io.jnorm.gpu.jcuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.gpu.GpuException;
import jcuda.CudaException;
import org.junit.jupiter.api.Test;

/** CUresult codes become GpuExceptions that name the status, the call and what to do. */
class CudaStatusTest {

    @Test
    void codesMapToTheirCudaHeaderNames() {
        assertEquals("CUDA_SUCCESS", CudaStatus.name(0));
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", CudaStatus.name(2));
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", CudaStatus.name(700));
        assertEquals("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", CudaStatus.name(222));
        // Not in JCuda 12.6's table, but in cuda.h:
        assertEquals("CUDA_ERROR_INSUFFICIENT_DRIVER", CudaStatus.name(35));
        assertEquals("CUDA_ERROR_12345", CudaStatus.name(12345));
    }

    @Test
    void jcudaExceptionsGiveBackTheStatusName() {
        assertEquals("CUDA_ERROR_LAUNCH_FAILED", CudaStatus.name(new CudaException("CUDA_ERROR_LAUNCH_FAILED")));
        assertEquals("CUDA_ERROR_INSUFFICIENT_DRIVER", CudaStatus.name(new CudaException("INVALID CUresult: 35")));
    }

    @Test
    void theMessageNamesTheCallAndExplainsTheStatus() {
        GpuException e = CudaStatus.exception(222, "cuModuleLoadDataEx(emulator_selftest.ptx)");
        assertEquals("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", e.status());
        assertTrue(e.getMessage().startsWith("CUDA_ERROR_UNSUPPORTED_PTX_VERSION: cuModuleLoadDataEx(emulator_selftest.ptx) failed: "),
                e.getMessage());
        assertTrue(e.getMessage().contains("R580"), e.getMessage());

        GpuException oom = CudaStatus.exception(2, "cuMemAlloc(1048576 bytes)");
        assertTrue(oom.getMessage().contains("cuMemAlloc(1048576 bytes) failed: the device is out of memory"), oom.getMessage());
    }

    @Test
    void kernelFaultsSayTheContextIsGone() {
        GpuException e = CudaStatus.exception(700, "cuCtxSynchronize");
        assertTrue(e.getMessage().contains("PTX emulator") && e.getMessage().contains("unusable"), e.getMessage());
        assertTrue(CudaStatus.isSticky("CUDA_ERROR_ILLEGAL_ADDRESS"));
        assertTrue(!CudaStatus.isSticky("CUDA_ERROR_OUT_OF_MEMORY"));
    }

    @Test
    void unknownStatusesStillProduceAMessage() {
        GpuException e = CudaStatus.exception(12345, "cuFoo");
        assertEquals("CUDA_ERROR_12345: cuFoo failed: CUDA_ERROR_12345", e.getMessage());
    }
}
