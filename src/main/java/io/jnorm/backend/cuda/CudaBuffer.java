package io.jnorm.backend.cuda;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.tensor.Buffer;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Tensor;
import java.lang.ref.Reference;

/**
 * A tensor's device memory: a block of the backend's caching allocator. Freeing (when the last
 * tensor using it is closed, e.g. by a Scope) returns the block to the allocator's cache. A
 * buffer garbage-collected without being freed is reported as a leak ({@link DeviceLeaks}); the
 * garbage collector never frees device memory.
 */
public final class CudaBuffer extends Buffer {
    private final DevicePointer pointer;
    private final CachingAllocator allocator;
    private final DeviceLeaks.Watch watch;

    CudaBuffer(Device device, DType dtype, long numel, DevicePointer pointer, CachingAllocator allocator,
               DeviceLeaks leaks) {
        super(device, dtype, numel);
        this.pointer = pointer;
        this.allocator = allocator;
        this.watch = leaks.watch(this, dtype, numel, pointer.bytes());
    }

    /** The device block; it may be larger than numel * dtype bytes (size classes). */
    public DevicePointer pointer() {
        return pointer;
    }

    /** Bytes of the tensor's data (numel * element size). */
    public long dataBytes() {
        return numel() * dtype().bytes();
    }

    @Override
    protected void freeMemory() {
        watch.freed();
        allocator.release(pointer);
        // Until the watch knows, this buffer must stay reachable, or the cleaner could report a false leak.
        Reference.reachabilityFence(this);
    }

    /** The device pointer of a tensor on a cuda-backend device. */
    static DevicePointer ptr(Tensor t) {
        return ((CudaBuffer) t.buffer()).pointer;
    }
}
