package io.jnorm.gpu;

import java.util.Optional;

/**
 * The narrow set of GPU driver calls the cuda backend needs, and nothing more.
 *
 * <p>Two implementations: {@code JCudaDriver} (a real GPU through JCuda's driver API) and the
 * PTX emulator (any machine). The cuda backend never knows which one it talks to, so every
 * kernel that passes on the emulator runs unchanged on a GPU.
 *
 * <p>Copies take host arrays rather than NIO buffers so that callers never touch native
 * memory; offsets and counts are in elements of the array's type, device offsets in bytes.
 * Launches are asynchronous in principle; {@link #synchronize()} and every device-to-host copy
 * wait for completion.
 */
public interface GpuDriver extends AutoCloseable {

    /** Static facts about the device: name, compute capability, memory, limits. */
    DeviceProperties properties();

    /** Allocates {@code bytes} of device memory (at least 256-byte aligned). */
    DevicePointer alloc(long bytes);

    /** Frees memory returned by {@link #alloc}; freeing twice is an error that names the pointer. */
    void free(DevicePointer pointer);

    /** Bytes currently allocated through this driver and not yet freed. */
    long bytesInUse();

    void copyToDevice(DevicePointer dst, long dstByteOffset, float[] src, int srcOffset, int count);

    void copyToDevice(DevicePointer dst, long dstByteOffset, double[] src, int srcOffset, int count);

    void copyToDevice(DevicePointer dst, long dstByteOffset, int[] src, int srcOffset, int count);

    void copyToDevice(DevicePointer dst, long dstByteOffset, long[] src, int srcOffset, int count);

    void copyToDevice(DevicePointer dst, long dstByteOffset, byte[] src, int srcOffset, int count);

    void copyToHost(float[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count);

    void copyToHost(double[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count);

    void copyToHost(int[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count);

    void copyToHost(long[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count);

    void copyToHost(byte[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count);

    void copyDeviceToDevice(DevicePointer dst, long dstByteOffset, DevicePointer src, long srcByteOffset, long bytes);

    /** Sets {@code bytes} bytes to zero (cuMemsetD8 semantics). */
    void memsetZero(DevicePointer dst, long dstByteOffset, long bytes);

    /**
     * Loads a module from PTX text. {@code name} is used in every message about the module
     * (e.g. "elementwise.ptx").
     */
    GpuModule loadModule(String name, String ptx);

    /** Looks up an {@code .entry} by name; an unknown name lists the module's entries. */
    GpuKernel kernel(GpuModule module, String entryName);

    /**
     * Launches a kernel. The arguments are checked against the kernel's {@code .entry}
     * parameter list (count, sizes and kinds) before anything reaches the device.
     */
    void launch(GpuKernel kernel, LaunchConfig config, KernelArgs args);

    /** Waits until every launch and copy issued so far has finished. */
    void synchronize();

    /** Records an event on the driver's single stream. */
    GpuEvent recordEvent();

    /** Milliseconds between two recorded events (waits for {@code end}). */
    float elapsedMillis(GpuEvent start, GpuEvent end);

    /**
     * Counters of the most recent launch, when the driver can observe them (the emulator can,
     * a real GPU cannot: use Nsight Compute there).
     */
    Optional<KernelCounters> lastLaunchCounters();

    /** Releases every resource of the driver; idempotent. */
    @Override
    void close();
}
