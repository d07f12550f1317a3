package io.jnorm.backend.cuda;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.GpuKernel;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.gpu.KernelParam;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.gpu.PtxResources;
import io.jnorm.tensor.DType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Typed launchers of {@code norm.ptx}: one Java method per {@code .entry}, whose parameters
 * mirror the kernel's C parameters in order. Every entry is looked up once and its parameter
 * list checked against what its launcher passes, so a .cu and a launcher that disagree fail at
 * load, naming the kernel and parameter, never at a launch.
 *
 * <p>Optional pointers are passed as {@code null} and become device null pointers; scalars of
 * the element type are passed as doubles and converted to the dtype's C type.
 */
final class CudaNormPtx {
    static final String MODULE = "norm";

    /** The kinds of C parameters the norm kernels take. */
    private enum P {
        PTR(8, false), INT(4, false), T32(4, true), T64(8, true);

        final int bytes;
        final boolean floating;

        P(int bytes, boolean floating) {
            this.bytes = bytes;
            this.floating = floating;
        }
    }

    /** Entry names without the dtype suffix, with their parameter lists (T = element type). */
    enum Entry {
        FWD_FUSED("norm_fwd_fused", "PPPPPPPP" + "IIIIIIII" + "I" + "TTT"),
        MOMENTS("norm_moments", "PPPPPPP" + "IIIIIIII" + "II" + "TT"),
        NORMALIZE("norm_normalize", "PPPPPP" + "IIIIIIII" + "II" + "T" + "PP" + "II" + "TT"),
        BWD_FUSED("norm_bwd_fused", "PPPPPPPPPP" + "IIIIIIII" + "I" + "T" + "I"),
        BWD_SUMS("norm_bwd_sums", "PPPPPPPPPP" + "IIIIIIII" + "II" + "T"),
        BWD_DX("norm_bwd_dx", "PPPPPPP" + "IIIIIIII" + "II" + "T"),
        BWD_CHANNEL("norm_bwd_channel", "PPPPPPPPPP" + "IIIII" + "III" + "T"),
        UPDATE_RUNNING("norm_update_running", "PPPP" + "II" + "TT");

        final String base;
        final String signature;

        Entry(String base, String signature) {
            this.base = base;
            this.signature = signature;
        }

        String name(DType t) {
            return base + "_" + t.suffix();
        }
    }

    private final GpuDriver driver;
    private final Map<DType, Map<Entry, GpuKernel>> kernels = new EnumMap<>(DType.class);
    private final List<Launch> launched = Collections.synchronizedList(new ArrayList<>());

    /**
     * One launch: the entry name and, when the driver observes them (the emulator), its counters.
     *
     * @param counters null on a real GPU
     */
    record Launch(String kernel, KernelCounters counters) {
    }

    /**
     * Loads norm.ptx into the driver and checks every entry's parameters.
     *
     * @throws IllegalStateException naming the kernel and parameter when the PTX and the launchers disagree
     */
    CudaNormPtx(GpuDriver driver) {
        this.driver = driver;
        GpuModule module = driver.loadModule(MODULE + ".ptx", PtxResources.load(MODULE));
        for (DType t : DType.values()) {
            Map<Entry, GpuKernel> m = new EnumMap<>(Entry.class);
            for (Entry e : Entry.values()) {
                GpuKernel k = driver.kernel(module, e.name(t));
                check(k, e, t);
                m.put(e, k);
            }
            kernels.put(t, m);
        }
    }

    private static void check(GpuKernel k, Entry e, DType t) {
        List<KernelParam> params = k.params();
        String sig = e.signature;
        if (params.size() != sig.length()) {
            throw new IllegalStateException(String.format("kernel %s takes %d parameters but CudaNormPtx passes %d; "
                    + "rebuild the PTX (tools/build-ptx) or fix the launcher", k.name(), params.size(), sig.length()));
        }
        for (int i = 0; i < sig.length(); i++) {
            P want = switch (sig.charAt(i)) {
                case 'P' -> P.PTR;
                case 'I' -> P.INT;
                default -> t == DType.F32 ? P.T32 : P.T64;
            };
            KernelParam p = params.get(i);
            boolean floating = p.ptxType().startsWith("f");
            if (p.sizeBytes() != want.bytes || floating != want.floating) {
                throw new IllegalStateException(String.format(
                        "kernel %s: parameter %d (%s .%s, %d bytes) does not match the launcher's %s", k.name(), i,
                        p.name(), p.ptxType(), p.sizeBytes(), want));
            }
        }
    }

    /**
     * Launches since the last call, in order: tests assert which kernels a plan ran and the
     * bytes they moved. Kept bounded by callers draining it; production code never reads it, so
     * {@link #recording} is off unless a test turns it on.
     */
    List<Launch> drainLaunched() {
        synchronized (launched) {
            List<Launch> out = List.copyOf(launched);
            launched.clear();
            return out;
        }
    }

    private volatile boolean recording;

    /** Starts or stops recording launches for {@link #drainLaunched()}. */
    void recording(boolean on) {
        recording = on;
        launched.clear();
    }

    private void launch(DType t, Entry e, LaunchConfig cfg, KernelArgs args) {
        GpuKernel k = kernels.get(t).get(e);
        driver.launch(k, cfg, args);
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
                  boolean vec, double eps, double factor, double bessel) {
        KernelArgs a = geom(ptrs(x, w, b, y, mean, var, rmean, rvar), g).i32(vec ? 1 : 0);
        launch(t, Entry.FWD_FUSED, cfg, real(real(real(a, t, eps), t, factor), t, bessel));
    }

    void moments(DType t, LaunchConfig cfg, DevicePointer x, DevicePointer mean, DevicePointer var,
                 DevicePointer rmean, DevicePointer rvar, DevicePointer partial, DevicePointer ticket,
                 CudaNormGeometry g, int chunk, boolean vec, double factor, double bessel) {
        KernelArgs a = geom(ptrs(x, mean, var, rmean, rvar, partial, ticket), g).i32(chunk).i32(vec ? 1 : 0);
        launch(t, Entry.MOMENTS, cfg, real(real(a, t, factor), t, bessel));
    }

    void normalize(DType t, LaunchConfig cfg, DevicePointer x, DevicePointer mean, DevicePointer var,
                   DevicePointer w, DevicePointer b, DevicePointer y, CudaNormGeometry g, int chunk, boolean vec,
                   double eps, DevicePointer rmean, DevicePointer rvar, int channels, int instances, double factor,
                   double bessel) {
        KernelArgs a = real(geom(ptrs(x, mean, var, w, b, y), g).i32(chunk).i32(vec ? 1 : 0), t, eps);
        a = ptrs2(a, rmean, rvar).i32(channels).i32(instances);
        launch(t, Entry.NORMALIZE, cfg, real(real(a, t, factor), t, bessel));
    }

    void bwdFused(DType t, LaunchConfig cfg, DevicePointer dy, DevicePointer x, DevicePointer mean,
                  DevicePointer var, DevicePointer w, DevicePointer dx, DevicePointer dw, DevicePointer db,
                  DevicePointer partial, DevicePointer ticket, CudaNormGeometry g, boolean vec, double eps,
                  boolean train) {
        KernelArgs a = geom(ptrs(dy, x, mean, var, w, dx, dw, db, partial, ticket), g).i32(vec ? 1 : 0);
        launch(t, Entry.BWD_FUSED, cfg, real(a, t, eps).i32(train ? 1 : 0));
    }

    void bwdSums(DType t, LaunchConfig cfg, DevicePointer dy, DevicePointer x, DevicePointer mean,
                 DevicePointer var, DevicePointer w, DevicePointer sums, DevicePointer dw, DevicePointer db,
                 DevicePointer partial, DevicePointer ticket, CudaNormGeometry g, int chunk, boolean vec,
                 double eps) {
        KernelArgs a = geom(ptrs(dy, x, mean, var, w, sums, dw, db, partial, ticket), g).i32(chunk).i32(vec ? 1 : 0);
        launch(t, Entry.BWD_SUMS, cfg, real(a, t, eps));
    }

    void bwdDx(DType t, LaunchConfig cfg, DevicePointer dy, DevicePointer x, DevicePointer mean, DevicePointer var,
               DevicePointer w, DevicePointer sums, DevicePointer dx, CudaNormGeometry g, int chunk, boolean vec,
               double eps) {
        KernelArgs a = geom(ptrs(dy, x, mean, var, w, sums, dx), g).i32(chunk).i32(vec ? 1 : 0);
        launch(t, Entry.BWD_DX, cfg, real(a, t, eps));
    }

    void bwdChannel(DType t, LaunchConfig cfg, DevicePointer dy, DevicePointer x, DevicePointer mean,
                    DevicePointer var, DevicePointer w, DevicePointer dx, DevicePointer dw, DevicePointer db,
                    DevicePointer partial, DevicePointer ticket, int n, int c, int l, int groups, boolean perChannel,
                    int chunk, boolean table, boolean vec, double eps) {
        KernelArgs a = ptrs(dy, x, mean, var, w, dx, dw, db, partial, ticket).i32(n).i32(c).i32(l).i32(groups)
                .i32(perChannel ? 1 : 0).i32(chunk).i32(table ? 1 : 0).i32(vec ? 1 : 0);
        launch(t, Entry.BWD_CHANNEL, cfg, real(a, t, eps));
    }

    void updateRunning(DType t, LaunchConfig cfg, DevicePointer bmean, DevicePointer bvar, DevicePointer rmean,
                       DevicePointer rvar, int channels, int instances, double factor, double bessel) {
        KernelArgs a = ptrs(bmean, bvar, rmean, rvar).i32(channels).i32(instances);
        launch(t, Entry.UPDATE_RUNNING, cfg, real(real(a, t, factor), t, bessel));
    }

    private static KernelArgs ptrs2(KernelArgs a, DevicePointer p, DevicePointer q) {
        a = p == null ? a.address(0) : a.ptr(p);
        return q == null ? a.address(0) : a.ptr(q);
    }
}
