package io.jnorm.backend.cuda;

import io.jnorm.backend.cuda.KernelHandle.Param;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Typed launchers of {@code norm.ptx} (src/main/cuda/norm.cu): one Java method per
 * {@code .entry}, whose parameters mirror the kernel's C parameters in order; every entry is
 * checked against its launcher's parameter list at load ({@link KernelHandle}).
 *
 * <p>Optional pointers are passed as {@code null} and become device null pointers; scalars of
 * the element type are passed as doubles and converted to the dtype's C type.
 */
final class CudaNormPtx {
    static final String MODULE = "norm";

    /**
     * One launch: the entry name and, when the driver observes them (the emulator), its counters.
     *
     * @param counters null on a real GPU
     */
    record Launch(String kernel, KernelCounters counters) {
    }

    private final GpuDriver driver;
    private final KernelHandle[] fwdFused;
    private final KernelHandle[] fwdEst;
    private final KernelHandle[] fwdRenorm;
    private final KernelHandle[] moments;
    private final KernelHandle[] normalize;
    private final KernelHandle[] bwdFused;
    private final KernelHandle[] bwdSums;
    private final KernelHandle[] bwdDx;
    private final KernelHandle[] bwdChannel;
    private final KernelHandle[] updateRunning;
    private final KernelHandle[] colStats;
    private final KernelHandle[] colApply;
    private final KernelHandle[] colFused;
    private final List<Launch> launched = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean recording;

    CudaNormPtx(PtxModules m) {
        driver = m.driver();
        fwdFused = m.perDType(MODULE, "norm_fwd_fused", params("PPPPPPPP" + GEOM + "I" + "TTT" + "P"));
        fwdEst = new KernelHandle[DType.values().length];
        for (DType t : DType.values()) {
            // eps follows the dtype; the rate is a double in both instantiations
            Param[] p = params("PPPPPPPP" + GEOM + "I" + "TT");
            p[p.length - 2] = t == DType.F32 ? Param.F32 : Param.F64;
            p[p.length - 1] = Param.F64;
            fwdEst[t.ordinal()] = m.kernel(MODULE, "norm_fwd_est_" + t.suffix(), p);
        }
        // Batch Renorm's scalars are doubles in both instantiations (its formulas run in double)
        fwdRenorm = new KernelHandle[DType.values().length];
        for (DType t : DType.values()) {
            Param[] p = params("PPPPPPPPPPP" + GEOM + "I" + "TTTT");
            for (int i = p.length - 4; i < p.length; i++) {
                p[i] = Param.F64;
            }
            fwdRenorm[t.ordinal()] = m.kernel(MODULE, "norm_fwd_renorm_" + t.suffix(), p);
        }
        moments = m.perDType(MODULE, "norm_moments", params("PPPPPPP" + GEOM + "II" + "TT" + "P"));
        normalize = m.perDType(MODULE, "norm_normalize", params("PPPPPP" + GEOM + "II" + "T" + "PP" + "II" + "TT"));
        bwdFused = m.perDType(MODULE, "norm_bwd_fused", params("PPPPPPPPPP" + GEOM + "I" + "T" + "I"));
        bwdSums = m.perDType(MODULE, "norm_bwd_sums", params("PPPPPPPPPPP" + GEOM + "II" + "T"));
        bwdDx = m.perDType(MODULE, "norm_bwd_dx", params("PPPPPPPPPP" + GEOM + "II" + "T" + "I"));
        bwdChannel = m.perDType(MODULE, "norm_bwd_channel", params("PPPPPPPPPP" + "IIIII" + "III" + "T"));
        updateRunning = m.perDType(MODULE, "norm_update_running", params("PPPP" + "II" + "TT"));
        colStats = m.perDType(MODULE, "norm_col_stats", params("PPPPPPPPPPPPP" + "IIIIII" + "TTT" + "P"));
        colApply = m.perDType(MODULE, "norm_col_apply", params("PPPPPPPP" + "IIIIII" + "T"));
        colFused = m.perDType(MODULE, "norm_col_fused", params("PPPPPPPPPPP" + "IIIII" + "TTT" + "P"));
    }

    /** The eight ints of a NormGeom. */
    private static final String GEOM = "IIIIIIII";

    /** P = pointer, I = int, T = element type (perDType turns F32 into F64 for the double kernels). */
    private static Param[] params(String sig) {
        Param[] p = new Param[sig.length()];
        for (int i = 0; i < p.length; i++) {
            p[i] = switch (sig.charAt(i)) {
                case 'P' -> Param.PTR;
                case 'I' -> Param.I32;
                default -> Param.F32;
            };
        }
        return p;
    }

    /** Starts (clearing) or stops recording launches for {@link #drainLaunched()}; off by default. */
    void recording(boolean on) {
        recording = on;
        launched.clear();
    }

    /** Launches since the last call, in order: tests assert which kernels ran and the bytes they moved. */
    List<Launch> drainLaunched() {
        synchronized (launched) {
            List<Launch> out = List.copyOf(launched);
            launched.clear();
            return out;
        }
    }

    private void launch(KernelHandle[] h, DType t, LaunchConfig cfg, KernelArgs args) {
        KernelHandle k = h[t.ordinal()];
        k.launch(cfg, args);
        if (recording) {
            launched.add(new Launch(k.name(), driver.lastLaunchCounters().orElse(null)));
        }
    }

    private static KernelArgs ptrs(DevicePointer... ps) {
        KernelArgs a = KernelArgs.of();
        for (DevicePointer p : ps) {
            a = p == null ? a.address(0) : a.ptr(p);
        }
        return a;
    }

    private static KernelArgs geom(KernelArgs a, CudaNormGeometry g) {
        return a.i32(g.stats()).i32(g.groups()).i32(g.cg()).i32(g.l()).i32(g.runLen()).i32(g.runStride())
                .i32(g.statStride()).i32(g.m());
    }

    private static KernelArgs real(KernelArgs a, DType t, double v) {
        return t == DType.F32 ? a.f32((float) v) : a.f64(v);
    }

    void fwdFused(DType t, LaunchConfig cfg, DevicePointer x, DevicePointer w, DevicePointer b, DevicePointer y,
                  DevicePointer mean, DevicePointer var, DevicePointer rmean, DevicePointer rvar, CudaNormGeometry g,
                  boolean vec, double eps, double factor, double bessel, DevicePointer counter) {
        KernelArgs a = geom(ptrs(x, w, b, y, mean, var, rmean, rvar), g).i32(vec ? 1 : 0);
        launch(fwdFused, t, cfg, orNull(real(real(real(a, t, eps), t, factor), t, bessel), counter));
    }

    /** EstBN's fused training forward: estMean / estVar are updated in place at {@code rate}. */
    void fwdEst(DType t, LaunchConfig cfg, DevicePointer x, DevicePointer w, DevicePointer b, DevicePointer y,
                DevicePointer mean, DevicePointer var, DevicePointer estMean, DevicePointer estVar,
                CudaNormGeometry g, boolean vec, double eps, double rate) {
        KernelArgs a = geom(ptrs(x, w, b, y, mean, var, estMean, estVar), g).i32(vec ? 1 : 0);
        launch(fwdEst, t, cfg, real(a, t, eps).f64(rate));
    }

    /** Batch Renorm's fused training forward: r, d, the folded scale, and the moving update in place. */
    void fwdRenorm(DType t, LaunchConfig cfg, DevicePointer x, DevicePointer gamma, DevicePointer beta,
                   DevicePointer y, DevicePointer mean, DevicePointer var, DevicePointer movingMean,
                   DevicePointer movingStd, DevicePointer r, DevicePointer d, DevicePointer scale, CudaNormGeometry g,
                   boolean vec, double eps, double rmax, double dmax, double momentum) {
        KernelArgs a = geom(ptrs(x, gamma, beta, y, mean, var, movingMean, movingStd, r, d, scale), g)
                .i32(vec ? 1 : 0).f64(eps).f64(rmax).f64(dmax).f64(momentum);
        launch(fwdRenorm, t, cfg, a);
    }

    void moments(DType t, LaunchConfig cfg, DevicePointer x, DevicePointer mean, DevicePointer var,
                 DevicePointer rmean, DevicePointer rvar, DevicePointer partial, DevicePointer ticket,
                 CudaNormGeometry g, int chunk, boolean vec, double factor, double bessel, DevicePointer counter) {
        KernelArgs a = geom(ptrs(x, mean, var, rmean, rvar, partial, ticket), g).i32(chunk).i32(vec ? 1 : 0);
        launch(moments, t, cfg, orNull(real(real(a, t, factor), t, bessel), counter));
    }

    void normalize(DType t, LaunchConfig cfg, DevicePointer x, DevicePointer mean, DevicePointer var,
                   DevicePointer w, DevicePointer b, DevicePointer y, CudaNormGeometry g, int chunk, boolean vec,
                   double eps, DevicePointer rmean, DevicePointer rvar, int channels, int instances, double factor,
                   double bessel) {
        KernelArgs a = real(geom(ptrs(x, mean, var, w, b, y), g).i32(chunk).i32(vec ? 1 : 0), t, eps);
        a = ptrs2(a, rmean, rvar).i32(channels).i32(instances);
        launch(normalize, t, cfg, real(real(a, t, factor), t, bessel));
    }

    void bwdFused(DType t, LaunchConfig cfg, DevicePointer dy, DevicePointer x, DevicePointer mean,
                  DevicePointer var, DevicePointer w, DevicePointer dx, DevicePointer dw, DevicePointer db,
                  DevicePointer partial, DevicePointer ticket, CudaNormGeometry g, boolean vec, double eps,
                  boolean train) {
        KernelArgs a = geom(ptrs(dy, x, mean, var, w, dx, dw, db, partial, ticket), g).i32(vec ? 1 : 0);
        launch(bwdFused, t, cfg, real(a, t, eps).i32(train ? 1 : 0));
    }

    void bwdSums(DType t, LaunchConfig cfg, DevicePointer dy, DevicePointer x, DevicePointer mean,
                 DevicePointer var, DevicePointer w, DevicePointer sums, DevicePointer dw, DevicePointer db,
                 DevicePointer statPartial, DevicePointer chPartial, DevicePointer ticket, CudaNormGeometry g,
                 int chunk, boolean vec, double eps) {
        KernelArgs a = geom(ptrs(dy, x, mean, var, w, sums, dw, db, statPartial, chPartial, ticket), g).i32(chunk)
                .i32(vec ? 1 : 0);
        launch(bwdSums, t, cfg, real(a, t, eps));
    }

    void bwdDx(DType t, LaunchConfig cfg, DevicePointer dy, DevicePointer x, DevicePointer mean, DevicePointer var,
               DevicePointer w, DevicePointer sums, DevicePointer dx, DevicePointer dw, DevicePointer db,
               DevicePointer chPartial, CudaNormGeometry g, int chunk, boolean vec, double eps, boolean train) {
        KernelArgs a = geom(ptrs(dy, x, mean, var, w, sums, dx, dw, db, chPartial), g).i32(chunk).i32(vec ? 1 : 0);
        launch(bwdDx, t, cfg, real(a, t, eps).i32(train ? 1 : 0));
    }

    void bwdChannel(DType t, LaunchConfig cfg, DevicePointer dy, DevicePointer x, DevicePointer mean,
                    DevicePointer var, DevicePointer w, DevicePointer dx, DevicePointer dw, DevicePointer db,
                    DevicePointer partial, DevicePointer ticket, int n, int c, int l, int groups, boolean perChannel,
                    int chunk, boolean table, boolean vec, double eps) {
        KernelArgs a = ptrs(dy, x, mean, var, w, dx, dw, db, partial, ticket).i32(n).i32(c).i32(l).i32(groups)
                .i32(perChannel ? 1 : 0).i32(chunk).i32(table ? 1 : 0).i32(vec ? 1 : 0);
        launch(bwdChannel, t, cfg, real(a, t, eps));
    }

    void updateRunning(DType t, LaunchConfig cfg, DevicePointer bmean, DevicePointer bvar, DevicePointer rmean,
                       DevicePointer rvar, int channels, int instances, double factor, double bessel) {
        KernelArgs a = ptrs(bmean, bvar, rmean, rvar).i32(channels).i32(instances);
        launch(updateRunning, t, cfg, real(real(a, t, factor), t, bessel));
    }

    /** Mode of the column kernels. */
    static final int COL_FORWARD = 0;
    static final int COL_BACKWARD = 1;

    void colStats(DType t, LaunchConfig cfg, DevicePointer x, DevicePointer dy, DevicePointer w, DevicePointer mean,
                  DevicePointer var, DevicePointer rmean, DevicePointer rvar, DevicePointer dx, DevicePointer dw,
                  DevicePointer db, DevicePointer sums, DevicePointer partial, DevicePointer ticket, int n, int c,
                  int l, int tileCols, int rowsPerChunk, int mode, double eps, double factor, double bessel,
                  DevicePointer counter) {
        KernelArgs a = ptrs(x, dy, w, mean, var, rmean, rvar, dx, dw, db, sums, partial, ticket).i32(n).i32(c).i32(l)
                .i32(tileCols).i32(rowsPerChunk).i32(mode);
        launch(colStats, t, cfg, orNull(real(real(real(a, t, eps), t, factor), t, bessel), counter));
    }

    void colApply(DType t, LaunchConfig cfg, DevicePointer x, DevicePointer dy, DevicePointer mean, DevicePointer var,
                  DevicePointer w, DevicePointer b, DevicePointer sums, DevicePointer out, int n, int c, int l,
                  int tileCols, int rowsPerChunk, int mode, double eps) {
        KernelArgs a = ptrs(x, dy, mean, var, w, b, sums, out).i32(n).i32(c).i32(l).i32(tileCols).i32(rowsPerChunk)
                .i32(mode);
        launch(colApply, t, cfg, real(a, t, eps));
    }

    void colFused(DType t, LaunchConfig cfg, DevicePointer x, DevicePointer dy, DevicePointer w, DevicePointer b,
                  DevicePointer mean, DevicePointer var, DevicePointer rmean, DevicePointer rvar, DevicePointer out,
                  DevicePointer dw, DevicePointer db, int n, int c, int l, int tileCols, int mode, double eps,
                  double factor, double bessel, DevicePointer counter) {
        KernelArgs a = ptrs(x, dy, w, b, mean, var, rmean, rvar, out, dw, db).i32(n).i32(c).i32(l).i32(tileCols)
                .i32(mode);
        launch(colFused, t, cfg, orNull(real(real(real(a, t, eps), t, factor), t, bessel), counter));
    }

    /** BatchNorm's float64 step counter (bumped with the running update), or a null pointer. */
    private static KernelArgs orNull(KernelArgs a, DevicePointer counter) {
        return counter == null ? a.address(0) : a.ptr(counter);
    }

    private static KernelArgs ptrs2(KernelArgs a, DevicePointer p, DevicePointer q) {
        a = p == null ? a.address(0) : a.ptr(p);
        return q == null ? a.address(0) : a.ptr(q);
    }
}
