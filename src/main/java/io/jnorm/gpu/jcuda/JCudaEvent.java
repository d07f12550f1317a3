package io.jnorm.gpu.jcuda;

import io.jnorm.gpu.GpuEvent;
import jcuda.driver.CUevent;

/** A CUDA event on the driver's stream. */
final class JCudaEvent implements GpuEvent {
    final CUevent handle;
    private final JCudaDriver owner;
    private boolean closed;

    JCudaEvent(CUevent handle, JCudaDriver owner) {
        this.handle = handle;
        this.owner = owner;
    }

    JCudaDriver owner() {
        return owner;
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            owner.destroyEvent(this);
        }
    }
}
