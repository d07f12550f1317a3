package io.jnorm.backend.cuda;

import io.jnorm.backend.Backend;
import io.jnorm.backend.Backends;
import io.jnorm.backend.BatchChannelNormKernels;
import io.jnorm.backend.BatchRenormKernels;
import io.jnorm.backend.ConvKernels;
import io.jnorm.backend.ElementwiseKernels;
import io.jnorm.backend.LinalgKernels;
import io.jnorm.backend.LossKernels;
import io.jnorm.backend.NormKernels;
import io.jnorm.backend.PoolKernels;
import io.jnorm.backend.ReductionKernels;
import io.jnorm.backend.ShapeKernels;
import io.jnorm.backend.SwitchableNormKernels;
import io.jnorm.backend.UnifiedBatchNormKernels;
import io.jnorm.backend.WeightStandardizationKernels;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuAvailability;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.emu.EmulatorOptions;
import io.jnorm.gpu.emu.PtxEmulator;
import io.jnorm.gpu.jcuda.JCudaDriver;
import io.jnorm.tensor.Buffer;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Tensor;

/**
 * The GPU backend: every kernel family over one {@link GpuDriver}, the same code whether the
 * driver is a real GPU (JCudaDriver, {@link Device#cuda(int)}) or the PTX emulator
 * ({@link Device#emulatedGpu()}).
 *
 * <ul>
 *   <li>Memory: a {@link CachingAllocator}; a tensor's buffer returns its block to the cache
 *       when the tensor (or its Scope) is closed. {@link #bytesInUse()}, {@link #bytesCached()},
 *       {@link #emptyCache()}.</li>
 *   <li>Execution: one stream; launches are asynchronous, and only reads by the host
 *       ({@link #toHost}) wait for the device.</li>
 *   <li>Kernels: the PTX modules are loaded once per backend; each family calls its kernels
 *       through typed launchers checked against the PTX at load. {@link #launchLog()} counts
 *       launches per kernel.</li>
 *   <li>linalg, conv, pool, loss and weight standardization run the tile kernels of gemm.cu,
 *       conv2d.cu, pool.cu, softmax.cu and ws_conv.cu (the WS convolution fused); the shared
 *       norm family (BN, GN, LN, IN and the norm parts of the other layers) runs norm.cu;
 *       BCN, BRN, SN and UBN run their own kernels next to it. Every family has CUDA kernels,
 *       so nothing goes through {@link HostFallback} (the CPU reference over host copies, for
 *       a family without kernels, logged once and counted in
 *       {@link LaunchLog#fallbackCounts()}).</li>
 * </ul>
 */
public final class CudaBackend implements Backend, AutoCloseable {

    /** Set to false to run the emulated GPU without its sanitizer (several times faster). */
    public static final String SANITIZER_PROPERTY = "jnorm.emu.sanitizer";

    private final Device device;
    private final GpuDriver driver;
    private final LaunchLog log = new LaunchLog();
    private final CachingAllocator allocator;
    private final DeviceLeaks leaks;
    private final PtxModules modules;
    private final CudaElementwise elementwise;
    private final CudaReductions reductions;
    private final CudaShapes shapes;
    private final LinalgKernels linalg;
    private final ConvKernels conv;
    private final PoolKernels pool;
    private final LossKernels loss;
    private final NormKernels norms;
    private final WeightStandardizationKernels ws;
    private final BatchChannelNormKernels bcn;
    private final BatchRenormKernels brn;
    private final SwitchableNormKernels sn;
    private final UnifiedBatchNormKernels ubn;

    /**
     * A backend for {@code device} over {@code driver}; the backend owns the driver and closes it.
     * Most code gets its backend from {@link Backends#of(Device)} instead.
     */
    public CudaBackend(Device device, GpuDriver driver) {
        if (!device.isGpu()) {
            throw new IllegalArgumentException("CudaBackend: " + device + " is not a GPU device");
        }
        this.device = device;
        this.driver = driver;
        boolean exact = driver instanceof PtxEmulator emu && emu.options().sanitizer();
        this.allocator = new CachingAllocator(driver, exact);
        this.leaks = new DeviceLeaks(device);
        this.modules = new PtxModules(driver, log);
        this.elementwise = new CudaElementwise(modules);
        this.reductions = new CudaReductions(modules, allocator);
        this.shapes = new CudaShapes(modules);
        CudaConvLaunchers convPtx = new CudaConvLaunchers(modules, allocator);
        this.linalg = new CudaLinalg(new CudaLinalgLaunchers(modules));
        this.conv = new CudaConv(convPtx);
        this.pool = new CudaPool(new CudaPoolLaunchers(modules));
        this.loss = new CudaLoss(new CudaLossLaunchers(modules));
        CudaNormEngine normEngine = new CudaNormEngine(modules, allocator);
        this.norms = new CudaNorm(normEngine);
        this.ws = new CudaWeightStandardization(new CudaWeightStandardizationLaunchers(modules, allocator, convPtx));
        this.bcn = new CudaBatchChannelNorm(modules, normEngine);
        this.brn = new CudaBatchRenorm(modules, normEngine);
        this.sn = new CudaSwitchableNorm(modules, allocator);
        this.ubn = new CudaUnifiedBatchNorm(modules, allocator);
    }

    /**
     * The factory {@link Backends} calls the first time a tensor asks for a GPU device.
     *
     * @throws IllegalStateException with the probe's reason when {@code cuda:N} is asked for on a
     *                               machine that cannot run CUDA
     */
    public static CudaBackend forDevice(Device device) {
        return switch (device.kind()) {
            case EMULATED_GPU -> new CudaBackend(device, new PtxEmulator(emulatorOptions()));
            case CUDA -> {
                GpuAvailability cuda = GpuAvailability.cuda();
                if (!cuda.available()) {
                    throw new IllegalStateException("device " + device + " is not available: " + cuda.reason());
                }
                yield new CudaBackend(device, JCudaDriver.open(device.index()));
            }
            case CPU -> throw new IllegalArgumentException("CudaBackend.forDevice: cpu is not a GPU device");
        };
    }

    /** The emulated GPU's options: sanitizer on unless -Djnorm.emu.sanitizer=false. */
    static EmulatorOptions emulatorOptions() {
        boolean sanitizer = !"false".equalsIgnoreCase(System.getProperty(SANITIZER_PROPERTY, "true").trim());
        return EmulatorOptions.defaults().withSanitizer(sanitizer);
    }

    /**
     * The cuda backend of a GPU device (creating it on first use).
     *
     * @throws IllegalArgumentException when the device is the CPU
     */
    public static CudaBackend of(Device device) {
        if (!device.isGpu()) {
            throw new IllegalArgumentException("CudaBackend.of: " + device + " is not a GPU device");
        }
        return (CudaBackend) Backends.of(device);
    }

    @Override
    public Device device() {
        return device;
    }

    /** The driver underneath (the emulator's counters are read through it). */
    public GpuDriver driver() {
        return driver;
    }

    /** Launch and host-fallback counts of this backend. */
    public LaunchLog launchLog() {
        return log;
    }

    /** Bytes of device memory held by live tensors (size-class rounded). */
    public long bytesInUse() {
        return allocator.bytesInUse();
    }

    /**
     * Device buffers garbage-collected without being closed so far (counted when the collector
     * finds them). Their memory is never freed by the collector and stays in
     * {@link #bytesInUse()}; see {@link io.jnorm.tensor.Scope} for how training avoids them.
     */
    public long leakedBuffers() {
        return leaks.buffers();
    }

    /** Bytes of the blocks of {@link #leakedBuffers()}. */
    public long leakedBytes() {
        return leaks.bytes();
    }

    /** Bytes of freed blocks kept for reuse. */
    public long bytesCached() {
        return allocator.bytesCached();
    }

    /** Returns every cached block to the driver. */
    public void emptyCache() {
        allocator.emptyCache();
    }

    /** Waits for every launch and copy issued so far. */
    public void synchronize() {
        driver.synchronize();
    }

    // ---------------------------------------------------------------- memory and transfers

    @Override
    public Buffer allocate(DType dtype, long numel) {
        long bytes = numel * dtype.bytes();
        DevicePointer p = allocator.allocate(bytes);
        driver.memsetZero(p, 0, bytes);
        return new CudaBuffer(device, dtype, numel, p, allocator, leaks);
    }

    /**
     * A constant array (a scalar operand, Tensor.full, the seed of backward) is written by a fill
     * kernel with the value as its parameter, which stays asynchronous; other values are copied
     * (a host-to-device copy waits for the stream).
     */
    @Override
    public Buffer fromHost(DType dtype, double[] values) {
        DevicePointer p = allocator.allocate((long) values.length * dtype.bytes());
        if (constant(values)) {
            elementwise.fill(dtype, values.length, values[0], p);
        } else {
            write(p, dtype, values);
        }
        return new CudaBuffer(device, dtype, values.length, p, allocator, leaks);
    }

    private static boolean constant(double[] v) {
        long first = Double.doubleToRawLongBits(v[0]);
        for (int i = 1; i < v.length; i++) {
            if (Double.doubleToRawLongBits(v[i]) != first) {
                return false;
            }
        }
        return true;
    }

    @Override
    public double[] toHost(Buffer buffer) {
        CudaBuffer b = (CudaBuffer) buffer;
        int n = Math.toIntExact(b.numel());
        double[] out = new double[n];
        if (b.dtype() == DType.F64) {
            driver.copyToHost(out, 0, b.pointer(), 0, n);
        } else {
            float[] f = new float[n];
            driver.copyToHost(f, 0, b.pointer(), 0, n);
            for (int i = 0; i < n; i++) {
                out[i] = f[i];
            }
        }
        return out;
    }

    /** Overwrites a device tensor's values (rounded to its dtype); used by host fallbacks. */
    void upload(Tensor t, double[] values) {
        write(CudaBuffer.ptr(t), t.dtype(), values);
    }

    private void write(DevicePointer p, DType dtype, double[] values) {
        if (dtype == DType.F64) {
            driver.copyToDevice(p, 0, values, 0, values.length);
        } else {
            float[] f = new float[values.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) values[i];
            }
            driver.copyToDevice(p, 0, f, 0, f.length);
        }
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        if (src.dtype() == dst.dtype()) {
            driver.copyDeviceToDevice(CudaBuffer.ptr(dst), 0, CudaBuffer.ptr(src), 0, src.numel() * src.dtype().bytes());
        } else {
            elementwise.cast(src, dst);
        }
    }

    // ---------------------------------------------------------------- families

    @Override
    public ElementwiseKernels elementwise() {
        return elementwise;
    }

    @Override
    public ReductionKernels reductions() {
        return reductions;
    }

    @Override
    public ShapeKernels shapes() {
        return shapes;
    }

    @Override
    public LinalgKernels linalg() {
        return linalg;
    }

    @Override
    public ConvKernels conv() {
        return conv;
    }

    @Override
    public PoolKernels pool() {
        return pool;
    }

    @Override
    public LossKernels loss() {
        return loss;
    }

    @Override
    public NormKernels norms() {
        return norms;
    }

    @Override
    public WeightStandardizationKernels weightStandardization() {
        return ws;
    }

    @Override
    public BatchChannelNormKernels batchChannelNorm() {
        return bcn;
    }

    @Override
    public BatchRenormKernels batchRenorm() {
        return brn;
    }

    @Override
    public SwitchableNormKernels switchableNorm() {
        return sn;
    }

    @Override
    public UnifiedBatchNormKernels unifiedBatchNorm() {
        return ubn;
    }

    /** Frees the cache and closes the driver; tensors still alive on this device become unusable. */
    @Override
    public void close() {
        allocator.emptyCache();
        driver.close();
    }
}
