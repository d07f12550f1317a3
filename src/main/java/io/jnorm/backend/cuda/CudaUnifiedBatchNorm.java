package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaBatchRenorm.ptrOrNull;
import static io.jnorm.backend.cuda.CudaBuffer.ptr;
import static io.jnorm.backend.cuda.CudaSwitchableNorm.blockFor;
import static io.jnorm.backend.cuda.KernelHandle.Param.I32;
import static io.jnorm.backend.cuda.KernelHandle.Param.PTR;

import io.jnorm.backend.UnifiedBatchNormKernels;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;

/**
 * Unified BN on the GPU (src/main/cuda/unified_batch_norm.cu): the condensation gate's cosine
 * statistic computed on the device (one pass over x for the default 16 samples), centering and scaling
 * calibration, and the depthwise k×k convolution affine, forward and backward. Planes are cached
 * in shared memory when they fit in {@link #SHARED_BUDGET} bytes; larger ones read through the
 * read-only path.
 */
final class CudaUnifiedBatchNorm implements UnifiedBatchNormKernels {
    static final String MODULE = "unified_batch_norm";
    /** Must match kCosBlock / kCosTile in the .cu: Gram blocks of 16 × 16 samples, 64-feature tiles. */
    private static final int COS_BLOCK = 16;
    private static final int COS_TILE = 64;
    /** One thread per entry of a 16 × 16 Gram block. */
    private static final int COS_THREADS = COS_BLOCK * COS_BLOCK;
    /** Feature blocks × block pairs: more blocks add no bandwidth at gate sizes, only partials. */
    private static final int COS_MAX_BLOCKS = 128;
    /**
     * Dynamic shared memory a plane cache may take: below the 48 KiB every CUDA device grants
     * without an opt-in, leaving room for the static scratch.
     */
    static final int SHARED_BUDGET = 40 * 1024;

    private final PtxModules modules;
    private final CachingAllocator allocator;
    private final KernelHandle[] cosine;
    private final KernelHandle[] center;
    private final KernelHandle[] calibrate;
    private final KernelHandle[] calibrateBackward;
    private final KernelHandle[] centerBackward;

    CudaUnifiedBatchNorm(PtxModules modules, CachingAllocator allocator) {
        this.modules = modules;
        this.allocator = allocator;
        cosine = modules.perDType(MODULE, "ubn_cosine", PTR, I32, I32, PTR, PTR, PTR);
        center = modules.perDType(MODULE, "ubn_center", PTR, PTR, I32, I32, I32, PTR, PTR, I32, I32);
        calibrate = modules.perDType(MODULE, "ubn_calibrate", PTR, PTR, PTR, PTR, PTR, I32, I32, I32, I32, I32, PTR,
                PTR, PTR, I32, I32);
        calibrateBackward = modules.perDType(MODULE, "ubn_calibrate_backward", PTR, PTR, PTR, PTR, PTR, PTR, I32, I32,
                I32, I32, I32, PTR, PTR, PTR, PTR, PTR, I32);
        centerBackward = modules.perDType(MODULE, "ubn_center_backward", PTR, PTR, PTR, I32, I32, I32, PTR, PTR, I32,
                I32);
    }

    private DevicePointer scratch(long bytes) {
        DevicePointer p = allocator.allocate(bytes);
        modules.driver().memsetZero(p, 0, bytes);
        return p;
    }

    @Override
    public void meanPairwiseCosine(Tensor x, int maxSamples, Tensor out) {
        int n = Math.min(x.dim(0), maxSamples);
        int f = Math.toIntExact(x.numel() / x.dim(0));
        long sampleBlocks = (n + COS_BLOCK - 1) / COS_BLOCK;
        long pairs = sampleBlocks * (sampleBlocks + 1) / 2;
        if (pairs > 65535) {
            throw new IllegalArgumentException("meanPairwiseCosine: " + n + " samples of input " + x.shape()
                    + " need " + pairs + " Gram blocks, more than one grid dimension holds (65535)");
        }
        // Each feature block writes a 2 KiB partial Gram block per pair that the last block reads
        // back: keep that traffic under 1/16 of the samples' bytes, so reading x dominates (at gate
        // sizes 64 blocks would move 4x the input in partials alone).
        long sampleBytes = (long) n * f * x.dtype().bytes();
        long byTraffic = Math.max(1, sampleBytes / (16L * 2 * Double.BYTES * COS_THREADS * pairs));
        int featureBlocks = (int) Math.max(1, Math.min(Math.min(Math.max(1, COS_MAX_BLOCKS / pairs), byTraffic),
                (f + COS_TILE - 1L) / COS_TILE));
        DevicePointer partial = scratch(8L * COS_THREADS * featureBlocks * pairs);
        DevicePointer ticket = scratch(4);
        try {
            cosine[x.dtype().ordinal()].launch(new LaunchConfig(featureBlocks, (int) pairs, 1, COS_THREADS, 1, 1, 0),
                    KernelArgs.of().ptr(ptr(x)).i32(n).i32(f).ptr(partial).ptr(ticket).ptr(ptr(out)));
        } finally {
            allocator.release(ticket);
            allocator.release(partial);
        }
    }

    private LaunchConfig rows(int rows, int work) {
        return LaunchConfig.of1d(Math.min(rows, modules.maxRowBlocks()), blockFor(work));
    }

    /** Whether planes of {@code p} elements take 16-byte vectors (every plane then starts aligned). */
    private static boolean vec(int p, DType t) {
        return p % (16 / t.bytes()) == 0;
    }

    /** Items a plane loop strides over: vectors or elements. */
    private static int items(int p, DType t) {
        return vec(p, t) ? p / (16 / t.bytes()) : p;
    }

    @Override
    public void center(Tensor x, Tensor centerWeight, Tensor sampleMean, Tensor xc) {
        int n = x.dim(0);
        int c = x.dim(1);
        int p = x.dim(2) * x.dim(3);
        long bytes = (long) p * x.dtype().bytes();
        boolean cached = bytes <= SHARED_BUDGET;
        DType t = x.dtype();
        center[t.ordinal()].launch(rows(n * c, items(p, t)).withDynamicShared(cached ? (int) bytes : 0),
                KernelArgs.of().ptr(ptr(x)).ptr(ptr(centerWeight)).i32(n).i32(c).i32(p).ptr(ptr(sampleMean))
                        .ptr(ptr(xc)).i32(cached ? 1 : 0).i32(vec(p, t) ? 1 : 0));
    }

    @Override
    public void calibrateAndAffine(Tensor xhat, Tensor scaleWeight, Tensor scaleBias, Tensor convWeight,
                                   Tensor convBias, Tensor scale, Tensor z, Tensor y) {
        int n = xhat.dim(0);
        int c = xhat.dim(1);
        int h = xhat.dim(2);
        int w = xhat.dim(3);
        int k = convWeight == null ? 1 : convWeight.dim(2);
        DType t = xhat.dtype();
        // the kernel starts the plane cache at the next 16-byte boundary after the taps
        long taps = ((long) k * k * t.bytes() + 15) / 16 * 16;
        long plane = (long) h * w * t.bytes();
        boolean cached = convWeight != null && taps + plane <= SHARED_BUDGET;
        int shared = (int) ((convWeight != null ? taps : 0) + (cached ? plane : 0));
        KernelArgs a = KernelArgs.of().ptr(ptr(xhat)).ptr(ptr(scaleWeight)).ptr(ptr(scaleBias));
        ptrOrNull(a, convWeight);
        ptrOrNull(a, convBias).i32(k).i32(n).i32(c).i32(h).i32(w).ptr(ptr(scale));
        ptrOrNull(a, convWeight == null ? null : z).ptr(ptr(y)).i32(cached ? 1 : 0).i32(vec(h * w, t) ? 1 : 0);
        calibrate[t.ordinal()].launch(rows(n * c, h * w).withDynamicShared(shared), a);
    }

    @Override
    public void calibrateAndAffineBackward(Tensor dy, Tensor xhat, Tensor z, Tensor scale, Tensor scaleWeight,
                                           Tensor convWeight, Tensor dxhat, Tensor dScaleWeight, Tensor dScaleBias,
                                           Tensor dConvWeight, Tensor dConvBias) {
        int n = xhat.dim(0);
        int c = xhat.dim(1);
        int h = xhat.dim(2);
        int w = xhat.dim(3);
        int k = convWeight == null ? 1 : convWeight.dim(2);
        DType t = xhat.dtype();
        long taps = convWeight == null ? 0 : 2L * k * k * t.bytes();
        long planes = 2L * h * w * t.bytes();
        boolean cached = taps + planes <= SHARED_BUDGET;
        int shared = (int) (taps + (cached ? planes : 0));
        KernelArgs a = KernelArgs.of().ptr(ptr(dy)).ptr(ptr(xhat));
        ptrOrNull(a, convWeight == null ? null : z).ptr(ptr(scale)).ptr(ptr(scaleWeight));
        ptrOrNull(a, convWeight).i32(k).i32(n).i32(c).i32(h).i32(w);
        ptrOrNull(a, dxhat);
        ptrOrNull(a, dScaleWeight);
        ptrOrNull(a, dScaleBias);
        ptrOrNull(a, convWeight == null ? null : dConvWeight);
        ptrOrNull(a, convWeight == null ? null : dConvBias).i32(cached ? 1 : 0);
        calibrateBackward[t.ordinal()].launch(rows(c, h * w).withDynamicShared(shared), a);
    }

    @Override
    public void centerBackward(Tensor dxc, Tensor sampleMean, Tensor centerWeight, Tensor dx, Tensor dCenterWeight) {
        int n = dxc.dim(0);
        int c = dxc.dim(1);
        int p = dxc.dim(2) * dxc.dim(3);
        long bytes = (long) p * dxc.dtype().bytes();
        boolean cached = dx != null && bytes <= SHARED_BUDGET;
        KernelArgs a = KernelArgs.of().ptr(ptr(dxc)).ptr(ptr(sampleMean)).ptr(ptr(centerWeight)).i32(n).i32(c).i32(p);
        ptrOrNull(a, dx);
        DType t = dxc.dtype();
        ptrOrNull(a, dCenterWeight).i32(cached ? 1 : 0).i32(vec(p, t) ? 1 : 0);
        centerBackward[t.ordinal()].launch(rows(c, items(p, t)).withDynamicShared(cached ? (int) bytes : 0), a);
    }
}
