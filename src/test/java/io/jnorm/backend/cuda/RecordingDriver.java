package io.jnorm.backend.cuda;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.DeviceProperties;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.GpuEvent;
import io.jnorm.gpu.GpuKernel;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.gpu.LaunchConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A GpuDriver that forwards everything to another one and remembers each launch: the kernel's
 * name and, where the driver observes them (the emulator), its counters. Tests use it to assert
 * which kernels an op ran, how many launches it took and how many bytes they moved.
 */
final class RecordingDriver implements GpuDriver {

    /** One launch: the kernel name, its grid, and its counters (null on a real GPU). */
    record Launch(String kernel, LaunchConfig config, KernelCounters counters) {
    }

    private final GpuDriver inner;
    private final List<Launch> launches = new ArrayList<>();

    RecordingDriver(GpuDriver inner) {
        this.inner = inner;
    }

    /** The launches since the last call, and forgets them. */
    List<Launch> drain() {
        List<Launch> out = List.copyOf(launches);
        launches.clear();
        return out;
    }

    List<String> drainNames() {
        return drain().stream().map(Launch::kernel).toList();
    }

    @Override
    public void launch(GpuKernel kernel, LaunchConfig config, KernelArgs args) {
        inner.launch(kernel, config, args);
        launches.add(new Launch(kernel.name(), config, inner.lastLaunchCounters().orElse(null)));
    }

    @Override
    public DeviceProperties properties() {
        return inner.properties();
    }

    @Override
    public DevicePointer alloc(long bytes) {
        return inner.alloc(bytes);
    }

    @Override
    public void free(DevicePointer pointer) {
        inner.free(pointer);
    }

    @Override
    public long bytesInUse() {
        return inner.bytesInUse();
    }

    @Override
    public void copyToDevice(DevicePointer dst, long off, float[] src, int srcOffset, int count) {
        inner.copyToDevice(dst, off, src, srcOffset, count);
    }

    @Override
    public void copyToDevice(DevicePointer dst, long off, double[] src, int srcOffset, int count) {
        inner.copyToDevice(dst, off, src, srcOffset, count);
    }

    @Override
    public void copyToDevice(DevicePointer dst, long off, int[] src, int srcOffset, int count) {
        inner.copyToDevice(dst, off, src, srcOffset, count);
    }

    @Override
    public void copyToDevice(DevicePointer dst, long off, long[] src, int srcOffset, int count) {
        inner.copyToDevice(dst, off, src, srcOffset, count);
    }

    @Override
    public void copyToDevice(DevicePointer dst, long off, byte[] src, int srcOffset, int count) {
        inner.copyToDevice(dst, off, src, srcOffset, count);
    }

    @Override
    public void copyToHost(float[] dst, int dstOffset, DevicePointer src, long off, int count) {
        inner.copyToHost(dst, dstOffset, src, off, count);
    }

    @Override
    public void copyToHost(double[] dst, int dstOffset, DevicePointer src, long off, int count) {
        inner.copyToHost(dst, dstOffset, src, off, count);
    }

    @Override
    public void copyToHost(int[] dst, int dstOffset, DevicePointer src, long off, int count) {
        inner.copyToHost(dst, dstOffset, src, off, count);
    }

    @Override
    public void copyToHost(long[] dst, int dstOffset, DevicePointer src, long off, int count) {
        inner.copyToHost(dst, dstOffset, src, off, count);
    }

    @Override
    public void copyToHost(byte[] dst, int dstOffset, DevicePointer src, long off, int count) {
        inner.copyToHost(dst, dstOffset, src, off, count);
    }

    @Override
    public void copyDeviceToDevice(DevicePointer dst, long dstOff, DevicePointer src, long srcOff, long bytes) {
        inner.copyDeviceToDevice(dst, dstOff, src, srcOff, bytes);
    }

    @Override
    public void memsetZero(DevicePointer dst, long off, long bytes) {
        inner.memsetZero(dst, off, bytes);
    }

    @Override
    public GpuModule loadModule(String name, String ptx) {
        return inner.loadModule(name, ptx);
    }

    @Override
    public GpuKernel kernel(GpuModule module, String entryName) {
        return inner.kernel(module, entryName);
    }

    @Override
    public void synchronize() {
        inner.synchronize();
    }

    @Override
    public GpuEvent recordEvent() {
        return inner.recordEvent();
    }

    @Override
    public float elapsedMillis(GpuEvent start, GpuEvent end) {
        return inner.elapsedMillis(start, end);
    }

    @Override
    public Optional<KernelCounters> lastLaunchCounters() {
        return inner.lastLaunchCounters();
    }

    @Override
    public void close() {
        inner.close();
    }
}
