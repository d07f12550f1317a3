package io.jnorm.gpu.jcuda;

import static jcuda.driver.CUjit_option.CU_JIT_ERROR_LOG_BUFFER;
import static jcuda.driver.CUjit_option.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES;
import static jcuda.driver.CUjit_option.CU_JIT_INFO_LOG_BUFFER;
import static jcuda.driver.CUjit_option.CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES;
import static jcuda.driver.CUjit_option.CU_JIT_LOG_VERBOSE;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD8;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadDataJIT;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import io.jnorm.gpu.CopyChecks;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.DeviceProperties;
import io.jnorm.gpu.GpuAvailability;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.GpuEvent;
import io.jnorm.gpu.GpuException;
import io.jnorm.gpu.GpuKernel;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.gpu.KernelParam;
import io.jnorm.gpu.KernelParamLayout;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.gpu.PtxEntrySignatures;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.JITOptions;

/**
 * A real GPU behind the {@link GpuDriver} seam, through JCuda's bindings of the CUDA driver API.
 * It needs only the NVIDIA driver (libcuda.so.1), no CUDA toolkit: kernels arrive as PTX and the
 * driver JIT-compiles them for the card.
 *
 * <p>Design points:
 * <ul>
 *   <li>The device's <em>primary</em> context, the one the CUDA runtime and cuBLAS/cuDNN also use,
 *       so memory allocated here can be handed to them. It is made current before every call,
 *       because CUDA contexts are per thread and callers may use the driver from any thread.</li>
 *   <li>JCuda's exceptions are enabled, so no status code can be dropped; each is caught at the
 *       call and rethrown as a {@link GpuException} that names the call and, for launches, the
 *       kernel and its grid and block.</li>
 *   <li>Launches are asynchronous, so a faulting kernel is reported by a later call. The driver
 *       remembers the last launch and names it in such errors; {@code -Djnorm.cuda.launchBlocking=true}
 *       synchronizes after every launch to pin a fault on its kernel (PyTorch's
 *       CUDA_LAUNCH_BLOCKING).</li>
 *   <li>One stream (the legacy default stream), so copies and launches are ordered without events.</li>
 * </ul>
 * All methods are synchronized: the bookkeeping (live allocations, modules, events) is shared
 * state and the GPU work is serialized on one stream anyway.
 */
public final class JCudaDriver implements GpuDriver {

    private static final System.Logger LOG = System.getLogger(JCudaDriver.class.getName());
    private static final String LAUNCH_BLOCKING = "jnorm.cuda.launchBlocking";

    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final DeviceProperties properties;
    private final boolean launchBlocking = Boolean.getBoolean(LAUNCH_BLOCKING);
    /** Handle 0: the legacy default stream, which orders every launch and copy of the context. */
    private final CUstream stream = new CUstream();

    /** Live allocations by base address; a TreeMap so a pointer into the middle finds its allocation. */
    private final TreeMap<Long, DeviceAllocation> allocations = new TreeMap<>();
    private final Map<Long, Long> allocationBytes = new TreeMap<>();
    private long bytesInUse;
    private final List<JCudaModule> modules = new ArrayList<>();
    private final Set<JCudaEvent> events = new LinkedHashSet<>();
    private String lastLaunch = "none";
    private boolean closed;

    private JCudaDriver(int ordinal) {
        this.ordinal = ordinal;
        jcuda.driver.JCudaDriver.setExceptionsEnabled(true);
        call("cuInit", () -> cuInit(0));
        call("cuDeviceGet(" + ordinal + ")", () -> cuDeviceGet(device, ordinal));
        call("cuDevicePrimaryCtxRetain(device " + ordinal + ")", () -> cuDevicePrimaryCtxRetain(context, device));
        try {
            call("cuCtxSetCurrent", () -> cuCtxSetCurrent(context));
            this.properties = readProperties();
        } catch (GpuException e) {
            try {
                cuDevicePrimaryCtxRelease(device);
            } catch (CudaException releaseFailure) {
                e.addSuppressed(releaseFailure);
            }
            throw e;
        }
        LOG.log(Level.DEBUG, () -> "JCudaDriver opened " + properties);
    }

    /**
     * Opens CUDA device {@code ordinal}.
     *
     * @throws IllegalStateException saying what is missing, when this machine cannot run CUDA
     *                               (no driver, no JCuda natives for the platform, no device)
     * @throws GpuException          when the device exists but cannot be opened
     */
    public static JCudaDriver open(int ordinal) {
        GpuAvailability.cuda().requireAvailable();
        if (ordinal < 0 || ordinal >= GpuAvailability.cuda().deviceCount()) {
            throw new IllegalArgumentException(String.format("CUDA device %d does not exist: %d device(s) visible",
                    ordinal, GpuAvailability.cuda().deviceCount()));
        }
        return new JCudaDriver(ordinal);
    }

    /** Device 0. */
    public static JCudaDriver open() {
        return open(0);
    }

    @Override
    public synchronized DeviceProperties properties() {
        return properties;
    }

    // ---- memory -----------------------------------------------------------------------------

    @Override
    public synchronized DevicePointer alloc(long bytes) {
        enter();
        if (bytes <= 0) {
            throw new IllegalArgumentException("alloc: size must be positive, got " + bytes);
        }
        DeviceAllocation ptr = new DeviceAllocation();
        try {
            cuMemAlloc(ptr, bytes);
        } catch (CudaException e) {
            throw CudaStatus.exception(CudaStatus.name(e), String.format(
                    "cuMemAlloc(%d bytes) with %d bytes already allocated by jnorm on %s",
                    bytes, bytesInUse, properties.name()), e);
        }
        allocations.put(ptr.address(), ptr);
        allocationBytes.put(ptr.address(), bytes);
        bytesInUse += bytes;
        return new DevicePointer(ptr.address(), bytes);
    }

    @Override
    public synchronized void free(DevicePointer pointer) {
        enter();
        if (pointer == null) {
            throw new IllegalArgumentException("free: null device pointer");
        }
        DeviceAllocation ptr = allocations.get(pointer.address());
        if (ptr == null) {
            throw new IllegalStateException("free(" + pointer + "): not a live allocation of this driver "
                    + "(freed twice, or a pointer into the middle of an allocation)");
        }
        call("cuMemFree(" + pointer + ")", () -> cuMemFree(ptr));
        allocations.remove(pointer.address());
        bytesInUse -= allocationBytes.remove(pointer.address());
    }

    @Override
    public synchronized long bytesInUse() {
        return bytesInUse;
    }

    @Override
    public void copyToDevice(DevicePointer dst, long dstByteOffset, float[] src, int srcOffset, int count) {
        long bytes = CopyChecks.hostDevice("copyToDevice(float[])", dst, dstByteOffset, src.length, srcOffset, count, Float.BYTES);
        toDevice(dst, dstByteOffset, Pointer.to(src).withByteOffset((long) srcOffset * Float.BYTES), bytes);
    }

    @Override
    public void copyToDevice(DevicePointer dst, long dstByteOffset, double[] src, int srcOffset, int count) {
        long bytes = CopyChecks.hostDevice("copyToDevice(double[])", dst, dstByteOffset, src.length, srcOffset, count, Double.BYTES);
        toDevice(dst, dstByteOffset, Pointer.to(src).withByteOffset((long) srcOffset * Double.BYTES), bytes);
    }

    @Override
    public void copyToDevice(DevicePointer dst, long dstByteOffset, int[] src, int srcOffset, int count) {
        long bytes = CopyChecks.hostDevice("copyToDevice(int[])", dst, dstByteOffset, src.length, srcOffset, count, Integer.BYTES);
        toDevice(dst, dstByteOffset, Pointer.to(src).withByteOffset((long) srcOffset * Integer.BYTES), bytes);
    }

    @Override
    public void copyToDevice(DevicePointer dst, long dstByteOffset, long[] src, int srcOffset, int count) {
        long bytes = CopyChecks.hostDevice("copyToDevice(long[])", dst, dstByteOffset, src.length, srcOffset, count, Long.BYTES);
        toDevice(dst, dstByteOffset, Pointer.to(src).withByteOffset((long) srcOffset * Long.BYTES), bytes);
    }

    @Override
    public void copyToDevice(DevicePointer dst, long dstByteOffset, byte[] src, int srcOffset, int count) {
        long bytes = CopyChecks.hostDevice("copyToDevice(byte[])", dst, dstByteOffset, src.length, srcOffset, count, 1);
        toDevice(dst, dstByteOffset, Pointer.to(src).withByteOffset(srcOffset), bytes);
    }

    @Override
    public void copyToHost(float[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count) {
        long bytes = CopyChecks.hostDevice("copyToHost(float[])", src, srcByteOffset, dst.length, dstOffset, count, Float.BYTES);
        toHost(Pointer.to(dst).withByteOffset((long) dstOffset * Float.BYTES), src, srcByteOffset, bytes);
    }

    @Override
    public void copyToHost(double[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count) {
        long bytes = CopyChecks.hostDevice("copyToHost(double[])", src, srcByteOffset, dst.length, dstOffset, count, Double.BYTES);
        toHost(Pointer.to(dst).withByteOffset((long) dstOffset * Double.BYTES), src, srcByteOffset, bytes);
    }

    @Override
    public void copyToHost(int[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count) {
        long bytes = CopyChecks.hostDevice("copyToHost(int[])", src, srcByteOffset, dst.length, dstOffset, count, Integer.BYTES);
        toHost(Pointer.to(dst).withByteOffset((long) dstOffset * Integer.BYTES), src, srcByteOffset, bytes);
    }

    @Override
    public void copyToHost(long[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count) {
        long bytes = CopyChecks.hostDevice("copyToHost(long[])", src, srcByteOffset, dst.length, dstOffset, count, Long.BYTES);
        toHost(Pointer.to(dst).withByteOffset((long) dstOffset * Long.BYTES), src, srcByteOffset, bytes);
    }

    @Override
    public void copyToHost(byte[] dst, int dstOffset, DevicePointer src, long srcByteOffset, int count) {
        long bytes = CopyChecks.hostDevice("copyToHost(byte[])", src, srcByteOffset, dst.length, dstOffset, count, 1);
        toHost(Pointer.to(dst).withByteOffset(dstOffset), src, srcByteOffset, bytes);
    }

    @Override
    public synchronized void copyDeviceToDevice(DevicePointer dst, long dstByteOffset, DevicePointer src, long srcByteOffset, long bytes) {
        enter();
        CopyChecks.deviceRange("copyDeviceToDevice (destination)", dst, dstByteOffset, bytes);
        CopyChecks.deviceRange("copyDeviceToDevice (source)", src, srcByteOffset, bytes);
        if (bytes == 0) {
            return;
        }
        CUdeviceptr d = devicePointer(dst, dstByteOffset);
        CUdeviceptr s = devicePointer(src, srcByteOffset);
        call(String.format("cuMemcpyDtoD(%d bytes, %s+%d -> %s+%d)", bytes, src, srcByteOffset, dst, dstByteOffset),
                () -> cuMemcpyDtoD(d, s, bytes));
    }

    @Override
    public synchronized void memsetZero(DevicePointer dst, long dstByteOffset, long bytes) {
        enter();
        CopyChecks.deviceRange("memsetZero", dst, dstByteOffset, bytes);
        if (bytes == 0) {
            return;
        }
        CUdeviceptr d = devicePointer(dst, dstByteOffset);
        call(String.format("cuMemsetD8(%s+%d, 0, %d bytes)", dst, dstByteOffset, bytes), () -> cuMemsetD8(d, (byte) 0, bytes));
    }

    private synchronized void toDevice(DevicePointer dst, long dstByteOffset, Pointer host, long bytes) {
        enter();
        if (bytes == 0) {
            return;
        }
        CUdeviceptr d = devicePointer(dst, dstByteOffset);
        call(String.format("cuMemcpyHtoD(%d bytes to %s+%d)", bytes, dst, dstByteOffset), () -> cuMemcpyHtoD(d, host, bytes));
    }

    private synchronized void toHost(Pointer host, DevicePointer src, long srcByteOffset, long bytes) {
        enter();
        if (bytes == 0) {
            return;
        }
        CUdeviceptr s = devicePointer(src, srcByteOffset);
        call(String.format("cuMemcpyDtoH(%d bytes from %s+%d)", bytes, src, srcByteOffset), () -> cuMemcpyDtoH(host, s, bytes));
    }

    /**
     * The JCuda pointer for {@code p + offset}. {@code p} may be a view into an allocation (its own
     * address and size); it must lie inside a live allocation of this driver.
     */
    private CUdeviceptr devicePointer(DevicePointer p, long offset) {
        Map.Entry<Long, DeviceAllocation> base = allocations.floorEntry(p.address());
        if (base == null || p.address() + p.bytes() > base.getKey() + allocationBytes.get(base.getKey())) {
            throw new IllegalArgumentException(p + " is not inside a live allocation of this driver (freed, or from another driver)");
        }
        return base.getValue().withByteOffset(p.address() - base.getKey() + offset);
    }

    // ---- modules and launches ---------------------------------------------------------------

    /**
     * Loads PTX through cuModuleLoadDataEx (JCuda's cuModuleLoadDataJIT), with the JIT's info and
     * error logs captured: when the driver rejects the PTX, its own explanation is in the message.
     */
    @Override
    public synchronized GpuModule loadModule(String name, String ptx) {
        enter();
        Map<String, List<KernelParam>> entries = PtxEntrySignatures.parse(ptx);
        byte[] info = new byte[JitLog.BUFFER_BYTES];
        byte[] error = new byte[JitLog.BUFFER_BYTES];
        JITOptions jit = new JITOptions();
        jit.putInt(CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES, info.length);
        jit.putBytes(CU_JIT_INFO_LOG_BUFFER, info);
        jit.putInt(CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, error.length);
        jit.putBytes(CU_JIT_ERROR_LOG_BUFFER, error);
        jit.putInt(CU_JIT_LOG_VERBOSE, 1);
        // The driver reads the PTX as a NUL-terminated C string.
        byte[] image = (ptx + '\0').getBytes(StandardCharsets.UTF_8);
        CUmodule handle = new CUmodule();
        try {
            cuModuleLoadDataJIT(handle, Pointer.to(image), jit);
        } catch (CudaException e) {
            String status = CudaStatus.name(e);
            throw new GpuException(status, "cuModuleLoadDataEx(" + name + ") on " + properties.name()
                    + " failed: " + CudaStatus.hint(status) + JitLog.describe(JitLog.text(error), JitLog.text(info)), e);
        }
        JCudaModule module = new JCudaModule(name, entries, handle, JitLog.text(info), this);
        modules.add(module);
        LOG.log(Level.DEBUG, () -> "loaded " + name + ":\n" + module.jitInfoLog());
        return module;
    }

    @Override
    public synchronized GpuKernel kernel(GpuModule module, String entryName) {
        enter();
        JCudaModule m = own(module);
        List<KernelParam> params = m.params(entryName);
        if (params == null) {
            throw new IllegalArgumentException("module " + m.name() + " has no kernel " + entryName
                    + "; its kernels are " + m.entryNames());
        }
        CUfunction function = new CUfunction();
        call("cuModuleGetFunction(" + m.name() + ", " + entryName + ")", () -> cuModuleGetFunction(function, m.handle, entryName));
        return new JCudaKernel(entryName, m, params, function);
    }

    @Override
    public synchronized void launch(GpuKernel kernel, LaunchConfig config, KernelArgs args) {
        enter();
        if (!(kernel instanceof JCudaKernel k) || k.jcudaModule().owner != this) {
            throw new IllegalArgumentException("launch: kernel " + kernel + " was not loaded by this driver");
        }
        KernelParamLayout layout = KernelParamLayout.of(kernel, args);
        String what = describeLaunch(kernel, config);
        if (config.dynamicSharedBytes() > properties.maxSharedMemoryPerBlock()) {
            throw new IllegalArgumentException(what + ": " + config.dynamicSharedBytes()
                    + " bytes of dynamic shared memory, more than the device's " + properties.maxSharedMemoryPerBlock());
        }
        Pointer kernelParams = Pointer.to(toPointers(layout));
        lastLaunch = what;
        call("cuLaunchKernel(" + what + ")", () -> cuLaunchKernel(k.function,
                config.gridX(), config.gridY(), config.gridZ(),
                config.blockX(), config.blockY(), config.blockZ(),
                config.dynamicSharedBytes(), stream, kernelParams, null));
        if (launchBlocking) {
            call("cuCtxSynchronize after " + what + " (" + LAUNCH_BLOCKING + ")", () -> cuCtxSynchronize());
        }
    }

    /** One host pointer per parameter, each to that parameter's bytes, as cuLaunchKernel wants. */
    static Pointer[] toPointers(KernelParamLayout layout) {
        Pointer[] pointers = new Pointer[layout.values().size()];
        for (int i = 0; i < pointers.length; i++) {
            pointers[i] = Pointer.to(layout.values().get(i));
        }
        return pointers;
    }

    static String describeLaunch(GpuKernel kernel, LaunchConfig c) {
        return String.format("kernel %s of %s, grid (%d, %d, %d), block (%d, %d, %d), %d B dynamic shared",
                kernel.name(), kernel.module().name(), c.gridX(), c.gridY(), c.gridZ(),
                c.blockX(), c.blockY(), c.blockZ(), c.dynamicSharedBytes());
    }

    @Override
    public synchronized void synchronize() {
        enter();
        call("cuCtxSynchronize", () -> cuCtxSynchronize());
    }

    // ---- events -----------------------------------------------------------------------------

    @Override
    public synchronized GpuEvent recordEvent() {
        enter();
        CUevent handle = new CUevent();
        call("cuEventCreate", () -> cuEventCreate(handle, CUevent_flags.CU_EVENT_DEFAULT));
        JCudaEvent event = new JCudaEvent(handle, this);
        events.add(event);
        call("cuEventRecord", () -> cuEventRecord(handle, stream));
        return event;
    }

    @Override
    public synchronized float elapsedMillis(GpuEvent start, GpuEvent end) {
        enter();
        JCudaEvent s = ownEvent(start);
        JCudaEvent e = ownEvent(end);
        float[] ms = new float[1];
        call("cuEventSynchronize", () -> cuEventSynchronize(e.handle));
        call("cuEventElapsedTime", () -> cuEventElapsedTime(ms, s.handle, e.handle));
        return ms[0];
    }

    synchronized void destroyEvent(JCudaEvent event) {
        if (events.remove(event) && !closed) {
            enter();
            call("cuEventDestroy", () -> cuEventDestroy(event.handle));
        }
    }

    @Override
    public Optional<KernelCounters> lastLaunchCounters() {
        return Optional.empty();
    }

    // ---- lifetime ---------------------------------------------------------------------------

    /**
     * Frees what is still allocated, unloads the modules, destroys the events and releases the
     * primary context. Idempotent. Leftover allocations are logged: they are leaks in the caller.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        List<RuntimeException> failures = new ArrayList<>();
        try {
            cuCtxSetCurrent(context);
        } catch (CudaException e) {
            failures.add(CudaStatus.exception(CudaStatus.name(e), "cuCtxSetCurrent during close", e));
        }
        if (!allocations.isEmpty()) {
            LOG.log(Level.WARNING, "JCudaDriver closed with {0} allocation(s), {1} bytes, still live; freeing them",
                    allocations.size(), bytesInUse);
        }
        for (DeviceAllocation ptr : allocations.values()) {
            quietly(failures, "cuMemFree", () -> cuMemFree(ptr));
        }
        allocations.clear();
        allocationBytes.clear();
        bytesInUse = 0;
        for (JCudaEvent event : events) {
            quietly(failures, "cuEventDestroy", () -> cuEventDestroy(event.handle));
        }
        events.clear();
        for (JCudaModule module : modules) {
            quietly(failures, "cuModuleUnload(" + module.name() + ")", () -> cuModuleUnload(module.handle));
        }
        modules.clear();
        quietly(failures, "cuDevicePrimaryCtxRelease", () -> cuDevicePrimaryCtxRelease(device));
        closed = true;
        if (!failures.isEmpty()) {
            RuntimeException first = failures.get(0);
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    @Override
    public String toString() {
        return "JCudaDriver(device " + ordinal + ": " + properties.name() + ")";
    }

    // ---- helpers ----------------------------------------------------------------------------

    /** Every public call starts here: refuse use after close, make the context current. */
    private void enter() {
        if (closed) {
            throw new IllegalStateException("JCudaDriver for device " + ordinal + " used after close");
        }
        call("cuCtxSetCurrent", () -> cuCtxSetCurrent(context));
    }

    private interface CudaCall {
        int run();
    }

    /**
     * Runs one driver call, turning a JCuda exception into a GpuException naming {@code what}.
     * A sticky error (a kernel fault) most likely comes from an earlier asynchronous launch, so the
     * message names the last launch too.
     */
    private void call(String what, CudaCall call) {
        try {
            call.run();
        } catch (CudaException e) {
            String status = CudaStatus.name(e);
            String context = CudaStatus.isSticky(status)
                    ? what + " (the fault is most likely in the last launch: " + lastLaunch
                    + "; rerun with -D" + LAUNCH_BLOCKING + "=true to confirm)"
                    : what;
            throw CudaStatus.exception(status, context, e);
        }
    }

    private static void quietly(List<RuntimeException> failures, String what, CudaCall call) {
        try {
            call.run();
        } catch (CudaException e) {
            failures.add(CudaStatus.exception(CudaStatus.name(e), what + " during close", e));
        }
    }

    private JCudaModule own(GpuModule module) {
        if (!(module instanceof JCudaModule m) || m.owner != this) {
            throw new IllegalArgumentException("module " + module + " was not loaded by this driver");
        }
        return m;
    }

    private JCudaEvent ownEvent(GpuEvent event) {
        if (!(event instanceof JCudaEvent e) || e.owner() != this) {
            throw new IllegalArgumentException("event " + event + " was not recorded by this driver");
        }
        if (e.isClosed()) {
            throw new IllegalStateException("event used after close");
        }
        return e;
    }

    private DeviceProperties readProperties() {
        byte[] name = new byte[256];
        long[] total = new long[1];
        call("cuDeviceGetName", () -> cuDeviceGetName(name, name.length, device));
        call("cuDeviceTotalMem", () -> cuDeviceTotalMem(total, device));
        return new DeviceProperties(
                CudaProbe.cString(name),
                attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                total[0],
                attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
                attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK),
                attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK),
                attribute(CUdevice_attribute.CU_DEVICE_ATTRIBUTE_WARP_SIZE));
    }

    private int attribute(int attribute) {
        int[] value = new int[1];
        call("cuDeviceGetAttribute(" + CUdevice_attribute.stringFor(attribute) + ")",
                () -> cuDeviceGetAttribute(value, attribute, device));
        return value[0];
    }
}
