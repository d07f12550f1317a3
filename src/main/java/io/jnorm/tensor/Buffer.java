package io.jnorm.tensor;

/**
 * Memory owned by a backend: host arrays on the CPU, a device allocation on a GPU.
 * Reference counted because reshape shares its input's buffer; the memory is freed when the
 * last tensor using it is closed.
 */
public abstract class Buffer {
    private final Device device;
    private final DType dtype;
    private final long numel;
    private int refs = 1;

    protected Buffer(Device device, DType dtype, long numel) {
        this.device = device;
        this.dtype = dtype;
        this.numel = numel;
    }

    public final Device device() {
        return device;
    }

    public final DType dtype() {
        return dtype;
    }

    public final long numel() {
        return numel;
    }

    public final synchronized boolean isFreed() {
        return refs == 0;
    }

    final synchronized void retain() {
        if (refs == 0) {
            throw new IllegalStateException("buffer of " + numel + " " + dtype + " on " + device + " was already freed");
        }
        refs++;
    }

    /** Drops one reference; frees the memory when none is left. */
    final void release() {
        boolean free;
        synchronized (this) {
            if (refs == 0) {
                return;
            }
            free = --refs == 0;
        }
        if (free) {
            freeMemory();
        }
    }

    /** Returns the memory to its owner (host GC, device allocator). Called exactly once. */
    protected abstract void freeMemory();
}
