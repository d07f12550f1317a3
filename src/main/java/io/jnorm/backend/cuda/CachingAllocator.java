package io.jnorm.backend.cuda;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.GpuException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Device memory with free lists per size class, so a training loop that allocates the same
 * shapes every step stops calling the driver after its first step (cuMemAlloc / cuMemFree
 * synchronize the device and cost tens of microseconds each).
 *
 * <p>Size classes: a request is rounded up to a multiple of 512 bytes below 1 MiB, and to one of
 * four classes per power of two above (at most 25% slack). A freed block goes back to its class's
 * free list; {@link #emptyCache()} returns every cached block to the driver. On an out-of-memory
 * error the cache is emptied and the allocation retried once.
 *
 * <p>With {@code exactSizes} (the emulator with its sanitizer on) every distinct byte size is
 * its own class, so the sanitizer's bounds are the tensor's own bounds: an off-by-one vector
 * load at the end of a tensor faults instead of landing in the rounding slack.
 *
 * <p>Blocks are reused in stream order: jnorm has one stream, so a kernel that reads a freed
 * block is always ordered before any kernel that writes the block's next owner.
 */
final class CachingAllocator {
    private static final long SMALL_LIMIT = 1L << 20;
    private static final long SMALL_GRANULE = 512;

    private final GpuDriver driver;
    private final boolean exactSizes;
    private final Map<Long, ArrayDeque<DevicePointer>> free = new HashMap<>();
    private long bytesInUse;
    private long bytesCached;

    CachingAllocator(GpuDriver driver, boolean exactSizes) {
        this.driver = driver;
        this.exactSizes = exactSizes;
    }

    /** The block size a request of {@code bytes} gets. */
    long sizeClass(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("CachingAllocator: size must be positive, got " + bytes);
        }
        if (exactSizes) {
            return bytes;
        }
        if (bytes <= SMALL_LIMIT) {
            return (bytes + SMALL_GRANULE - 1) / SMALL_GRANULE * SMALL_GRANULE;
        }
        long pow = Long.highestOneBit(bytes - 1);
        long quarter = pow / 4;
        return (bytes + quarter - 1) / quarter * quarter;
    }

    /** A block of at least {@code bytes} bytes; its contents are whatever the last owner left. */
    synchronized DevicePointer allocate(long bytes) {
        long size = sizeClass(bytes);
        ArrayDeque<DevicePointer> list = free.get(size);
        DevicePointer p = list == null ? null : list.poll();
        if (p != null) {
            bytesCached -= size;
        } else {
            p = allocateFromDriver(size);
        }
        bytesInUse += size;
        return p;
    }

    private DevicePointer allocateFromDriver(long size) {
        try {
            return driver.alloc(size);
        } catch (GpuException e) {
            if (bytesCached == 0 || !e.status().contains("OUT_OF_MEMORY")) {
                throw e;
            }
            emptyCache();
            return driver.alloc(size);
        }
    }

    /** Returns a block to its free list (not to the driver). */
    synchronized void release(DevicePointer p) {
        bytesInUse -= p.bytes();
        bytesCached += p.bytes();
        free.computeIfAbsent(p.bytes(), s -> new ArrayDeque<>()).push(p);
    }

    /** Bytes of blocks held by live buffers. */
    synchronized long bytesInUse() {
        return bytesInUse;
    }

    /** Bytes of free blocks kept for reuse. */
    synchronized long bytesCached() {
        return bytesCached;
    }

    /** Frees every cached block on the device (after the stream has drained). */
    synchronized void emptyCache() {
        if (bytesCached == 0) {
            return;
        }
        driver.synchronize();
        for (ArrayDeque<DevicePointer> list : free.values()) {
            for (DevicePointer p : list) {
                driver.free(p);
            }
        }
        free.clear();
        bytesCached = 0;
    }
}
