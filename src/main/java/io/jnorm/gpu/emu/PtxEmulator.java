package io.jnorm.gpu.emu;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.DeviceProperties;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.GpuEvent;
import io.jnorm.gpu.GpuException;
import io.jnorm.gpu.GpuKernel;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.gpu.KernelParam;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.gpu.emu.DeviceMemory.Allocation;
import io.jnorm.gpu.emu.PtxAst.Decl;
import io.jnorm.gpu.emu.PtxAst.Function;
import io.jnorm.gpu.emu.PtxAst.Module;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link GpuDriver} that interprets PTX on the CPU, with CUDA's execution semantics, a
 * sanitizer and per-launch counters. Launches run synchronously on the calling thread (or on
 * worker threads it waits for), so events and synchronize need no queue.
 */
public final class PtxEmulator implements GpuDriver {
    private static final int MAX_SHARED_PER_BLOCK = 48 * 1024;
    private static final int MAX_SHARED_OPT_IN = 99 * 1024;

    private final EmulatorOptions options;
    private final DeviceMemory heap;
    private final long capacity;
    private KernelCounters lastCounters;
    private final Map<String, KernelCounters> perKernel = new LinkedHashMap<>();
    private boolean closed;
    /** The block runner of the last single-worker launch, for the next launch of the same kernel. */
    private final AtomicReference<BlockRunner> spareRunner = new AtomicReference<>();

    public PtxEmulator() {
        this(EmulatorOptions.defaults());
    }

    public PtxEmulator(EmulatorOptions options) {
        this.options = options;
        this.capacity = Math.max(64L << 20, Runtime.getRuntime().maxMemory() / 2);
        this.heap = new DeviceMemory(capacity, options.sanitizer());
    }

    public EmulatorOptions options() {
        return options;
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("PtxEmulator: used after close()");
        }
    }

    @Override
    public DeviceProperties properties() {
        return new DeviceProperties("jnorm PTX emulator", 7, 5, capacity, 1, 1024, MAX_SHARED_PER_BLOCK, 32);
    }

    @Override
    public DevicePointer alloc(long bytes) {
        open();
        return new DevicePointer(heap.allocate(bytes).base, bytes);
    }

    @Override
    public void free(DevicePointer pointer) {
        open();
        heap.free(pointer.address());
    }

    @Override
    public long bytesInUse() {
        return heap.bytesInUse();
    }

    /**
     * Host bytes the emulated heap holds for device memory: the backing arrays and shadow bits
     * of live allocations (a freed allocation keeps only a small tombstone). Lets long runs and
     * tests check that freed device memory is given back to the Java heap.
     */
    public long retainedHostBytes() {
        return heap.retainedBytes();
    }

    private Allocation range(DevicePointer p, long off, long bytes, String what) {
        open();
        if (off < 0) {
            throw new IllegalArgumentException(what + ": negative device offset " + off);
        }
        return heap.hostRange(p.address() + off, bytes, what + " " + p);
    }

    private static void checkHost(int length, int off, int count, String what) {
        if (off < 0 || count < 0 || (long) off + count > length) {
            throw new IllegalArgumentException(String.format("%s: host range [%d, %d) outside an array of %d",
                    what, off, (long) off + count, length));
        }
    }

    @Override
    public void copyToDevice(DevicePointer dst, long dstByteOffset, float[] src, int srcOffset, int count) {
        checkHost(src.length, srcOffset, count, "copyToDevice");
        Allocation a = range(dst, dstByteOffset, 4L * count, "copyToDevice");
        int base = (int) (dst.address() + dstByteOffset - a.base);
        for (int i = 0; i < count; i++) {
            DeviceMemory.I32.set(a.data, base + 4 * i, Float.floatToRawIntBits(src[srcOffset + i]));
        }
        a.markInit(base, 4 * count);
    }

    @Override
    public void copyToDevice(DevicePointer dst, long dstByteOffset, double[] src, int srcOffset, int count) {
        checkHost(src.length, srcOffset, count, "copyToDevice");
        Allocation a = range(dst, dstByteOffset, 8L * count, "copyToDevice");
        int base = (int) (dst.address() + dstByteOffset - a.base);
        for (int i = 0; i < count; i++) {
            DeviceMemory.I64.set(a.data, base + 8 * i, Double.doubleToRawLongBits(src[srcOffset + i]));
        }
        a.markInit(base, 8 * count);
    }

    @Override
    public void copyToDevice(DevicePointer dst, long dstByteOffset, int[] src, int srcOffset, int count) {
        checkHost(src.length, srcOffset, count, "copyToDevice");
        Allocation a = range(dst, dstByteOffset, 4L * count, "copyToDevice");
        int base = (int) (dst.address() + dstByteOffset - a.base);
        for (int i = 0; i < count; i++) {
            DeviceMemory.I32.set(a.data, base + 4 * i, src[srcOffset + i]);
        }
        a.markInit(base, 4 * count);
    }

    @Override
    public void copyToDevice(DevicePointer dst, long dstByteOffset, long[] src, int srcOffset, int count) {
        checkHost(src.length, srcOffset, count, "copyToDevice");
        Allocation a = range(dst, dstByteOffset, 8L * count, "copyToDevice");
        int base = (int) (dst.address() + dstByteOffset - a.base);
        for (int i = 0; i < count; i++) {
            DeviceMemory.I64.set(a.data, base + 8 * i, src[srcOffset + i]);
        }
        a.markInit(base, 8 * count);
    }

    @Override
    public void copyToDevice(DevicePointer dst, long dstByteOffset, byte[] src, int srcOffset, int count) {
        checkHost(src.length, srcOffset, count, "copyToDevice");
        Allocation a = range(dst, dstByteOffset, count, "copyToDevice");
        int base = (int) (dst.address() + dstByteOffset - a.base);
        System.arraycopy(src, srcOffset, a.data, base, count);
        a.markInit(base, count);
    }

    @Override
    public void copyToHost(float[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count) {
        checkHost(dst.length, dstOffset, count, "copyToHost");
        Allocation a = range(src, srcByteOffset, 4L * count, "copyToHost");
        int base = (int) (src.address() + srcByteOffset - a.base);
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = Float.intBitsToFloat((int) DeviceMemory.I32.get(a.data, base + 4 * i));
        }
    }

    @Override
    public void copyToHost(double[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count) {
        checkHost(dst.length, dstOffset, count, "copyToHost");
        Allocation a = range(src, srcByteOffset, 8L * count, "copyToHost");
        int base = (int) (src.address() + srcByteOffset - a.base);
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = Double.longBitsToDouble((long) DeviceMemory.I64.get(a.data, base + 8 * i));
        }
    }

    @Override
    public void copyToHost(int[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count) {
        checkHost(dst.length, dstOffset, count, "copyToHost");
        Allocation a = range(src, srcByteOffset, 4L * count, "copyToHost");
        int base = (int) (src.address() + srcByteOffset - a.base);
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = (int) DeviceMemory.I32.get(a.data, base + 4 * i);
        }
    }

    @Override
    public void copyToHost(long[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count) {
        checkHost(dst.length, dstOffset, count, "copyToHost");
        Allocation a = range(src, srcByteOffset, 8L * count, "copyToHost");
        int base = (int) (src.address() + srcByteOffset - a.base);
        for (int i = 0; i < count; i++) {
            dst[dstOffset + i] = (long) DeviceMemory.I64.get(a.data, base + 8 * i);
        }
    }

    @Override
    public void copyToHost(byte[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count) {
        checkHost(dst.length, dstOffset, count, "copyToHost");
        Allocation a = range(src, srcByteOffset, count, "copyToHost");
        System.arraycopy(a.data, (int) (src.address() + srcByteOffset - a.base), dst, dstOffset, count);
    }

    @Override
    public void copyDeviceToDevice(DevicePointer dst, long dstByteOffset, DevicePointer src, long srcByteOffset,
                                   long bytes) {
        Allocation s = range(src, srcByteOffset, bytes, "copyDeviceToDevice source");
        Allocation d = range(dst, dstByteOffset, bytes, "copyDeviceToDevice destination");
        int so = (int) (src.address() + srcByteOffset - s.base);
        int doff = (int) (dst.address() + dstByteOffset - d.base);
        System.arraycopy(s.data, so, d.data, doff, (int) bytes);
        d.markInit(doff, (int) bytes);
    }

    @Override
    public void memsetZero(DevicePointer dst, long dstByteOffset, long bytes) {
        Allocation a = range(dst, dstByteOffset, bytes, "memsetZero");
        int off = (int) (dst.address() + dstByteOffset - a.base);
        java.util.Arrays.fill(a.data, off, off + (int) bytes, (byte) 0);
        a.markInit(off, (int) bytes);
    }

    @Override
    public GpuModule loadModule(String name, String ptx) {
        open();
        Module m = PtxParser.parse(name, ptx);
        Map<String, Long> globals = new HashMap<>();
        for (Decl d : m.globals()) {
            if (d.space().equals(".global") || d.space().equals(".const")) {
                long size = PtxAst.typeSize(d.type()) * Math.max(d.arrayLen(), 1);
                Allocation a = heap.allocate(size);
                if (d.init() != null) {
                    System.arraycopy(d.init(), 0, a.data, 0, d.init().length);
                }
                // module variables start zero-filled, as the CUDA loader does
                a.markAllInit();
                globals.put(d.name(), a.base);
            }
        }
        EmuModule module = new EmuModule(name, this);
        for (Function f : m.functions()) {
            if (f.entry()) {
                module.add(KernelDecoder.decode(m, f, globals));
            }
        }
        return module;
    }

    @Override
    public GpuKernel kernel(GpuModule module, String entryName) {
        open();
        if (!(module instanceof EmuModule em) || em.owner != this) {
            throw new IllegalArgumentException("kernel: module " + module.name() + " was not loaded by this emulator");
        }
        EmuKernel k = em.kernel(entryName);
        if (k == null) {
            throw new IllegalArgumentException(String.format("module %s has no entry %s; its entries are %s",
                    module.name(), entryName, module.entryNames()));
        }
        return k;
    }

    @Override
    public void launch(GpuKernel kernel, LaunchConfig config, KernelArgs args) {
        open();
        if (!(kernel instanceof EmuKernel ek) || ek.emuModule().owner != this) {
            throw new IllegalArgumentException("launch: kernel " + kernel.name() + " was not loaded by this emulator");
        }
        args.checkAgainst(kernel);
        KernelImage k = ek.image;
        checkGeometry(k, config);
        byte[] params = pack(k, args);
        lastCounters = null;
        Counters c = Launcher.run(k, config, options, heap, params, spareRunner);
        lastCounters = c.toRecord(k.name);
        perKernel.merge(k.name, lastCounters, Counters::sum);
    }

    private static void checkGeometry(KernelImage k, LaunchConfig cfg) {
        int[] lim = k.reqntid != null ? k.reqntid : k.maxntid;
        if (k.reqntid != null && (cfg.blockX() != lim[0] || cfg.blockY() != lim[1] || cfg.blockZ() != lim[2])) {
            throw new GpuException("CUDA_ERROR_INVALID_VALUE", String.format(
                    "kernel %s requires blocks of (%d, %d, %d) threads (.reqntid), got (%d, %d, %d)", k.name, lim[0],
                    lim[1], lim[2], cfg.blockX(), cfg.blockY(), cfg.blockZ()));
        }
        if (k.maxntid != null && cfg.threadsPerBlock() > k.maxntid[0] * k.maxntid[1] * k.maxntid[2]) {
            throw new GpuException("CUDA_ERROR_INVALID_VALUE", String.format(
                    "kernel %s allows at most %d threads per block (.maxntid), got %d", k.name,
                    k.maxntid[0] * k.maxntid[1] * k.maxntid[2], cfg.threadsPerBlock()));
        }
        long shared = (long) k.dynamicSharedBase() + cfg.dynamicSharedBytes();
        if (k.sharedStaticBytes > MAX_SHARED_PER_BLOCK || shared > MAX_SHARED_OPT_IN) {
            throw new GpuException("CUDA_ERROR_INVALID_VALUE", String.format(
                    "kernel %s needs %d bytes of shared memory (%d static + %d dynamic), more than the %d allowed",
                    k.name, shared, k.sharedStaticBytes, cfg.dynamicSharedBytes(), MAX_SHARED_OPT_IN));
        }
        if (cfg.dynamicSharedBytes() > 0 && k.dynamicBaseSlot < 0) {
            // harmless on a GPU, but almost always a launcher bug worth hearing about
            throw new GpuException("CUDA_ERROR_INVALID_VALUE", String.format(
                    "kernel %s declares no extern .shared array but the launch asks for %d bytes of dynamic shared memory",
                    k.name, cfg.dynamicSharedBytes()));
        }
    }

    private static byte[] pack(KernelImage k, KernelArgs args) {
        byte[] buf = new byte[k.paramBytes];
        List<KernelArgs.Arg> list = args.list();
        for (int i = 0; i < list.size(); i++) {
            KernelParam p = k.params.get(i);
            byte[] b = list.get(i).bytes();
            System.arraycopy(b, 0, buf, k.paramOffsets[i], Math.min(b.length, p.sizeBytes()));
        }
        return buf;
    }

    @Override
    public void synchronize() {
        open();
    }

    private record EmuEvent(long nanos) implements GpuEvent {
    }

    @Override
    public GpuEvent recordEvent() {
        open();
        return new EmuEvent(System.nanoTime());
    }

    @Override
    public float elapsedMillis(GpuEvent start, GpuEvent end) {
        if (!(start instanceof EmuEvent s) || !(end instanceof EmuEvent e)) {
            throw new IllegalArgumentException("elapsedMillis: events were not recorded by this emulator");
        }
        return (e.nanos() - s.nanos()) / 1e6f;
    }

    @Override
    public Optional<KernelCounters> lastLaunchCounters() {
        return Optional.ofNullable(lastCounters);
    }

    /** Counters of every launch of the named kernel so far, summed. */
    public Optional<KernelCounters> accumulatedCounters(String kernel) {
        return Optional.ofNullable(perKernel.get(kernel));
    }

    @Override
    public void close() {
        closed = true;
        spareRunner.set(null);
    }
}
