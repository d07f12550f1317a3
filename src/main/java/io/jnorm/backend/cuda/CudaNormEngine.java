package io.jnorm.backend.cuda;

import io.jnorm.backend.NormLayout;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;

/**
 * The norm family on device pointers: picks the kernels of norm.cu for a layout (fused when a
 * statistic fits on chip, streaming otherwise, see {@link CudaNormPlan}) and launches them
 * through {@link CudaNormPtx}. {@link CudaNorm} adapts it to tensors.
 *
 * <p>Launches per call:
 * <pre>
 *   forwardTrain   fused: 1 (+1 running update averaged over instances, InstanceNorm)
 *                  streaming: norm_moments + norm_normalize = 2 (running updates folded in)
 *   backward       fused: 1; streaming: norm_bwd_sums + norm_bwd_dx (2);
 *                  eval with per-channel constants: norm_bwd_channel (1)
 * </pre>
 * A call that needs grid partials or tickets takes them from the backend's caching allocator and
 * releases them before returning: launches are stream-ordered, so the next owner's kernels run
 * after this call's. Tickets are zeroed once per call (the kernels leave them at 0 again).
 */
final class CudaNormEngine {

    /**
     * A running-statistics update folded into a forward: {@code instances} blocks of C batch
     * statistics averaged, each over {@code count} elements (Bessel factor count/(count − 1)), and
     * BatchNorm's float64 step counter bumped by the same thread as channel 0 ({@code counter}
     * null for none; only per-channel layouts take one).
     */
    record Running(DevicePointer mean, DevicePointer var, int instances, long count, double factor,
                   DevicePointer counter) {
        double bessel() {
            return (double) count / (count - 1);
        }
    }

    private final GpuDriver driver;
    private final CachingAllocator allocator;
    private final CudaNormPtx ptx;
    private final CudaNormPlan plan;
    /** The current call's workspace (grid partials) and zeroed tickets, released when it returns. */
    private DevicePointer scratch;
    private DevicePointer tickets;

    CudaNormEngine(PtxModules modules, CachingAllocator allocator) {
        this(modules, allocator, CudaNormPlan.DEFAULT);
    }

    /** With a non-default plan: tests shrink it so that small tensors take every path. */
    CudaNormEngine(PtxModules modules, CachingAllocator allocator, CudaNormPlan plan) {
        this.driver = modules.driver();
        this.allocator = allocator;
        this.ptx = new CudaNormPtx(modules);
        this.plan = plan;
    }

    CudaNormPtx ptx() {
        return ptx;
    }

    /**
     * y = w·(x − μ)·rstd + b with μ, σ² the batch moments (written to mean / var), and the
     * running update when {@code running} is given.
     */
    synchronized void forwardTrain(DType t, NormLayout layout, DevicePointer x, DevicePointer w, DevicePointer b,
                                   DevicePointer y, DevicePointer mean, DevicePointer var, double eps,
                                   Running running) {
        try {
            forwardTrainLaunches(t, layout, x, w, b, y, mean, var, eps, running);
        } finally {
            releaseWorkspace();
        }
    }

    private void forwardTrainLaunches(DType t, NormLayout layout, DevicePointer x, DevicePointer w, DevicePointer b,
                                      DevicePointer y, DevicePointer mean, DevicePointer var, double eps,
                                      Running running) {
        boolean perChannel = layout.reduction() == NormLayout.Reduction.PER_CHANNEL;
        Running inKernel = running != null && perChannel ? running : null;
        if (CudaNormPlan.columnLayout(layout)) {
            columnForward(t, layout, x, w, b, y, mean, var, eps, inKernel);
            return;
        }
        CudaNormGeometry g = geometry(layout);
        int width = CudaNormPlan.vectorWidth(g, t);
        double factor = running == null ? 0 : running.factor();
        double bessel = running == null ? 0 : running.bessel();
        if (plan.forwardFits(g, t)) {
            LaunchConfig cfg = new LaunchConfig(1, CudaNormPlan.stagedGridY(g), 1,
                    plan.threads(g.m() / width), 1, 1, (int) CudaNormPlan.fusedForwardBytes(g, t));
            ptx.fwdFused(t, cfg, x, w, b, y, mean, var, inKernel == null ? null : inKernel.mean(),
                    inKernel == null ? null : inKernel.var(), g, width > 1, eps, factor, bessel,
                    inKernel == null ? null : inKernel.counter());
            if (running != null && !perChannel) {
                updateRunning(t, mean, var, running.instances(), layout.c(), running.count(), factor, running.mean(),
                        running.var());
            }
            return;
        }
        int chunk = plan.chunk(t);
        int chunks = plan.chunks(g.m(), plan.chunk(t));
        reserve(t, 3L * g.stats() * chunks, g.stats());
        LaunchConfig mcfg = new LaunchConfig(chunks, CudaNormPlan.plainGridY(g), 1,
                plan.threads(Math.min(g.m(), chunk) / width), 1, 1, 0);
        ptx.moments(t, mcfg, x, mean, var, inKernel == null ? null : inKernel.mean(),
                inKernel == null ? null : inKernel.var(), scratch, tickets, g, chunk, width > 1, factor, bessel,
                inKernel == null ? null : inKernel.counter());
        Running folded = running != null && !perChannel ? running : null;
        normalizeLaunch(t, layout, g, width, x, mean, var, w, b, y, eps, folded);
    }

    /**
     * EstBN's training forward in one launch (norm_fwd_est) when a channel fits on chip: batch
     * moments into mean / var, the estimate update of estMean / estVar at {@code rate}, and y
     * normalized with the updated estimates.
     *
     * @return false, launching nothing, when the layout takes the column or streaming kernels
     *         (the caller then runs moments, update and normalize separately)
     */
    synchronized boolean forwardEstimate(DType t, NormLayout layout, DevicePointer x, DevicePointer w,
                                         DevicePointer b, DevicePointer y, DevicePointer mean, DevicePointer var,
                                         DevicePointer estMean, DevicePointer estVar, double rate, double eps) {
        LaunchConfig cfg = fusedChannelConfig(t, layout);
        if (cfg == null) {
            return false;
        }
        CudaNormGeometry g = geometry(layout);
        ptx.fwdEst(t, cfg, x, w, b, y, mean, var, estMean, estVar, g, CudaNormPlan.vectorWidth(g, t) > 1, eps, rate);
        return true;
    }

    /**
     * Batch Renorm's training forward in one launch (norm_fwd_renorm) when a channel fits on chip:
     * batch moments, r and d from the moving statistics on entry, the folded scale γ·r, y, and
     * the moving update (see {@link io.jnorm.backend.BatchRenormKernels#trainForward}).
     *
     * @return false, launching nothing, when the layout takes the column or streaming kernels
     */
    synchronized boolean forwardRenorm(DType t, NormLayout layout, DevicePointer x, DevicePointer gamma,
                                       DevicePointer beta, DevicePointer y, DevicePointer mean, DevicePointer var,
                                       DevicePointer movingMean, DevicePointer movingStd, DevicePointer r,
                                       DevicePointer d, DevicePointer scale, double eps, double rmax, double dmax,
                                       double momentum) {
        LaunchConfig cfg = fusedChannelConfig(t, layout);
        if (cfg == null) {
            return false;
        }
        CudaNormGeometry g = geometry(layout);
        ptx.fwdRenorm(t, cfg, x, gamma, beta, y, mean, var, movingMean, movingStd, r, d, scale, g,
                CudaNormPlan.vectorWidth(g, t) > 1, eps, rmax, dmax, momentum);
        return true;
    }

    /**
     * The launch of a fused per-channel forward (one block row per channel, the channel cached
     * on chip), or null when the layout is not per-channel, takes the column kernels, or a
     * channel does not fit.
     */
    private LaunchConfig fusedChannelConfig(DType t, NormLayout layout) {
        if (layout.reduction() != NormLayout.Reduction.PER_CHANNEL || CudaNormPlan.columnLayout(layout)) {
            return null;
        }
        CudaNormGeometry g = geometry(layout);
        if (!plan.forwardFits(g, t)) {
            return null;
        }
        int width = CudaNormPlan.vectorWidth(g, t);
        return new LaunchConfig(1, CudaNormPlan.stagedGridY(g), 1, plan.threads(g.m() / width), 1, 1,
                (int) CudaNormPlan.fusedForwardBytes(g, t));
    }

    /** Batch mean and biased variance only (streaming Welford kernel). */
    synchronized void moments(DType t, NormLayout layout, DevicePointer x, DevicePointer mean, DevicePointer var) {
        try {
            momentsLaunches(t, layout, x, mean, var);
        } finally {
            releaseWorkspace();
        }
    }

    private void momentsLaunches(DType t, NormLayout layout, DevicePointer x, DevicePointer mean, DevicePointer var) {
        if (CudaNormPlan.columnLayout(layout)) {
            columnStats(t, layout, x, null, null, mean, var, null, null, null, null, null, false, 0, 0, 0);
            return;
        }
        CudaNormGeometry g = geometry(layout);
        int width = CudaNormPlan.vectorWidth(g, t);
        int chunk = plan.chunk(t);
        int chunks = plan.chunks(g.m(), plan.chunk(t));
        reserve(t, 3L * g.stats() * chunks, g.stats());
        LaunchConfig cfg = new LaunchConfig(chunks, CudaNormPlan.plainGridY(g), 1,
                plan.threads(Math.min(g.m(), chunk) / width), 1, 1, 0);
        ptx.moments(t, cfg, x, mean, var, null, null, scratch, tickets, g, chunk, width > 1, 0, 0, null);
    }

    /** y = w·(x − mean)·rstd + b with given statistics. */
    synchronized void normalize(DType t, NormLayout layout, DevicePointer x, DevicePointer mean, DevicePointer var,
                                double eps, DevicePointer w, DevicePointer b, DevicePointer y) {
        if (CudaNormPlan.columnLayout(layout)) {
            columnApply(t, layout, x, null, mean, var, w, b, null, y, CudaNormPtx.COL_FORWARD, eps);
            return;
        }
        CudaNormGeometry g = geometry(layout);
        normalizeLaunch(t, layout, g, CudaNormPlan.vectorWidth(g, t), x, mean, var, w, b, y, eps, null);
    }

    private void normalizeLaunch(DType t, NormLayout layout, CudaNormGeometry g, int width, DevicePointer x,
                                 DevicePointer mean, DevicePointer var, DevicePointer w, DevicePointer b,
                                 DevicePointer y, double eps, Running running) {
        int chunk = plan.chunk(t);
        LaunchConfig cfg = new LaunchConfig(plan.chunks(g.m(), plan.chunk(t)), CudaNormPlan.stagedGridY(g), 1,
                plan.threads(Math.min(g.m(), chunk) / width), 1, 1, plan.chunkTableBytes(g, t, 2));
        ptx.normalize(t, cfg, x, mean, var, w, b, y, g, chunk, width > 1, eps,
                running == null ? null : running.mean(), running == null ? null : running.var(), layout.c(),
                running == null ? 0 : running.instances(), running == null ? 0 : running.factor(),
                running == null ? 0 : running.bessel());
    }

    /** Gradients of normalize (see {@link io.jnorm.backend.NormKernels#normalizeBackward}). */
    synchronized void backward(DType t, NormLayout layout, DevicePointer dy, DevicePointer x, DevicePointer mean,
                               DevicePointer var, double eps, DevicePointer w, boolean statsFromInput,
                               DevicePointer dx, DevicePointer dw, DevicePointer db) {
        try {
            backwardLaunches(t, layout, dy, x, mean, var, eps, w, statsFromInput, dx, dw, db);
        } finally {
            releaseWorkspace();
        }
    }

    private void backwardLaunches(DType t, NormLayout layout, DevicePointer dy, DevicePointer x, DevicePointer mean,
                                  DevicePointer var, double eps, DevicePointer w, boolean statsFromInput,
                                  DevicePointer dx, DevicePointer dw, DevicePointer db) {
        if (dx == null && dw == null && db == null) {
            return;
        }
        if (CudaNormPlan.columnLayout(layout)) {
            columnBackward(t, layout, dy, x, mean, var, eps, w, statsFromInput, dx, dw, db);
            return;
        }
        if (!statsFromInput && layout.reduction() == NormLayout.Reduction.PER_CHANNEL) {
            channelReduce(t, layout, dy, x, mean, var, eps, w, dx, dw, db);
            return;
        }
        CudaNormGeometry g = geometry(layout);
        int width = CudaNormPlan.vectorWidth(g, t);
        if (plan.backwardFits(g, t)) {
            int k = CudaNormPlan.blocksPerGroup(g);
            reserve(t, 2L * k * layout.c(), g.groups());
            LaunchConfig cfg = new LaunchConfig(1, g.groups() * k, 1, plan.threads(g.m() / width), 1, 1,
                    (int) CudaNormPlan.fusedBackwardBytes(g, t));
            ptx.bwdFused(t, cfg, dy, x, mean, var, w, dx, dw, db, scratch, tickets, g, width > 1, eps,
                    statsFromInput);
            return;
        }
        // Streaming: a reduction pass and an elementwise pass over the same grid.
        int chunk = plan.backwardChunk(t);
        int chunks = plan.chunks(g.m(), chunk);
        int gridY = CudaNormPlan.stagedGridY(g);
        int slots = plan.backwardSlots(g, t);
        long sumsElems = 2L * g.stats();
        long statPartialElems = 2L * g.stats() * chunks;
        long chPartialElems = 2L * gridY * chunks * slots;
        reserve(t, sumsElems + statPartialElems + chPartialElems, g.stats());
        DevicePointer sums = slice(scratch, 0, sumsElems, t);
        DevicePointer statPartial = slice(scratch, sumsElems, statPartialElems, t);
        DevicePointer chPartial = slice(scratch, sumsElems + statPartialElems, chPartialElems, t);
        int threads = plan.threads(Math.min(g.m(), chunk) / width);
        int cached = g.cg() == 1 ? 0 : 2 * chunk;
        LaunchConfig sumsCfg = new LaunchConfig(chunks, gridY, 1, threads, 1, 1, (cached + 3 * slots) * t.bytes());
        ptx.bwdSums(t, sumsCfg, dy, x, mean, var, w, sums, dw, db, statPartial, chPartial, tickets, g, chunk, width > 1,
                eps);
        LaunchConfig dxCfg = new LaunchConfig(chunks, gridY, 1, threads, 1, 1, slots * t.bytes());
        ptx.bwdDx(t, dxCfg, dy, x, mean, var, w, sums, dx, dw, db, chPartial, g, chunk, width > 1, eps,
                statsFromInput);
    }

    private static DevicePointer slice(DevicePointer p, long offsetElems, long elems, DType t) {
        return new DevicePointer(p.address() + offsetElems * t.bytes(), elems * t.bytes());
    }

    /** dweight / dbias per channel, and the constant-statistics dx = dy·w·rstd when dx is given. */
    private void channelReduce(DType t, NormLayout layout, DevicePointer dy, DevicePointer x, DevicePointer mean,
                               DevicePointer var, double eps, DevicePointer w, DevicePointer dx, DevicePointer dw,
                               DevicePointer db) {
        int n = layout.n();
        int c = layout.c();
        int l = layout.l();
        long m = (long) n * l;
        int width = l % CudaNormPlan.width(t) == 0 ? CudaNormPlan.width(t) : 1;
        int chunk = plan.chunk(t);
        int chunks = plan.chunks(m, plan.chunk(t));
        reserve(t, 2L * c * chunks, c);
        boolean table = 2L * n * t.bytes() <= CudaNormPlan.TABLE_BYTES;
        LaunchConfig cfg = new LaunchConfig(chunks, Math.min(c, CudaNormPlan.MAX_GRID_Y), 1,
                plan.threads(Math.min(m, chunk) / width), 1, 1, table ? 2 * n * t.bytes() : 0);
        ptx.bwdChannel(t, cfg, dy, x, mean, var, w, dx, dw, db, scratch, tickets, n, c, l, layout.groups(),
                layout.reduction() == NormLayout.Reduction.PER_CHANNEL, chunk, table, width > 1, eps);
    }

    // ---- column layout: per-channel statistics of channels shorter than a warp ----------------

    private void columnForward(DType t, NormLayout layout, DevicePointer x, DevicePointer w, DevicePointer b,
                               DevicePointer y, DevicePointer mean, DevicePointer var, double eps, Running running) {
        int n = layout.n();
        int c = layout.c();
        int l = layout.l();
        double factor = running == null ? 0 : running.factor();
        double bessel = running == null ? 0 : running.bessel();
        CudaNormPlan.ColumnShape f = plan.columnFused(n, c, l);
        long bytes = CudaNormPlan.columnFusedBytes(f, n, l, t, false);
        if (bytes <= plan.sharedBudget()) {
            LaunchConfig cfg = new LaunchConfig(f.tiles(c, l), 1, 1, f.tileCols(), f.rowThreads(), 1, (int) bytes);
            ptx.colFused(t, cfg, x, null, w, b, mean, var, running == null ? null : running.mean(),
                    running == null ? null : running.var(), y, null, null, n, c, l, f.tileCols(),
                    CudaNormPtx.COL_FORWARD, eps, factor, bessel, running == null ? null : running.counter());
            return;
        }
        columnStats(t, layout, x, null, null, mean, var, running == null ? null : running.mean(),
                running == null ? null : running.var(), null, null, null, null, false, eps, factor, bessel,
                running == null ? null : running.counter());
        columnApply(t, layout, x, null, mean, var, w, b, null, y, CudaNormPtx.COL_FORWARD, eps);
    }

    private void columnBackward(DType t, NormLayout layout, DevicePointer dy, DevicePointer x, DevicePointer mean,
                                DevicePointer var, double eps, DevicePointer w, boolean statsFromInput,
                                DevicePointer dx, DevicePointer dw, DevicePointer db) {
        int n = layout.n();
        int c = layout.c();
        int l = layout.l();
        if (!statsFromInput) {
            // constants: dx = dy·w·rstd written by the reduction pass itself
            columnStats(t, layout, x, dy, w, mean, var, null, null, dx, dw, db, true, eps, 0, 0);
            return;
        }
        CudaNormPlan.ColumnShape f = plan.columnFused(n, c, l);
        long bytes = CudaNormPlan.columnFusedBytes(f, n, l, t, true);
        if (bytes <= plan.sharedBudget()) {
            LaunchConfig cfg = new LaunchConfig(f.tiles(c, l), 1, 1, f.tileCols(), f.rowThreads(), 1, (int) bytes);
            ptx.colFused(t, cfg, x, dy, w, null, mean, var, null, null, dx, dw, db, n, c, l, f.tileCols(),
                    CudaNormPtx.COL_BACKWARD, eps, 0, 0, null);
            return;
        }
        DevicePointer sums = allocator.allocate(2L * c * t.bytes());
        try {
            columnStats(t, layout, x, dy, w, mean, var, null, null, null, dw, db, sums, eps);
            if (dx != null) {
                columnApply(t, layout, x, dy, mean, var, w, null, sums, dx, CudaNormPtx.COL_BACKWARD, eps);
            }
        } finally {
            // stream-ordered: the next owner's kernels run after these
            allocator.release(sums);
        }
    }

    private void columnStats(DType t, NormLayout layout, DevicePointer x, DevicePointer dy, DevicePointer w,
                             DevicePointer mean, DevicePointer var, DevicePointer rmean, DevicePointer rvar,
                             DevicePointer dx, DevicePointer dw, DevicePointer db, boolean backward, double eps,
                             double factor, double bessel) {
        columnStats(t, layout, x, dy, w, mean, var, rmean, rvar, dx, dw, db, null, backward, eps, factor, bessel,
                null);
    }

    private void columnStats(DType t, NormLayout layout, DevicePointer x, DevicePointer dy, DevicePointer w,
                             DevicePointer mean, DevicePointer var, DevicePointer rmean, DevicePointer rvar,
                             DevicePointer dx, DevicePointer dw, DevicePointer db, DevicePointer sums, double eps) {
        columnStats(t, layout, x, dy, w, mean, var, rmean, rvar, dx, dw, db, sums, true, eps, 0, 0, null);
    }

    private void columnStats(DType t, NormLayout layout, DevicePointer x, DevicePointer dy, DevicePointer w,
                             DevicePointer mean, DevicePointer var, DevicePointer rmean, DevicePointer rvar,
                             DevicePointer dx, DevicePointer dw, DevicePointer db, DevicePointer sums,
                             boolean backward, double eps, double factor, double bessel, DevicePointer counter) {
        int n = layout.n();
        int c = layout.c();
        int l = layout.l();
        CudaNormPlan.ColumnShape s = plan.columnStreaming(c, l);
        int tiles = s.tiles(c, l);
        int chunks = s.chunks(n);
        reserve(t, 3L * c * chunks, tiles);
        int bytes = (s.threads() * 3 + 3 * (s.tileCols() / l)) * t.bytes();
        LaunchConfig cfg = new LaunchConfig(tiles, chunks, 1, s.tileCols(), s.rowThreads(), 1, bytes);
        ptx.colStats(t, cfg, x, dy, w, mean, var, rmean, rvar, dx, dw, db, sums, scratch, tickets, n, c, l,
                s.tileCols(), s.rowsPerChunk(), backward ? CudaNormPtx.COL_BACKWARD : CudaNormPtx.COL_FORWARD, eps,
                factor, bessel, counter);
    }

    private void columnApply(DType t, NormLayout layout, DevicePointer x, DevicePointer dy, DevicePointer mean,
                             DevicePointer var, DevicePointer w, DevicePointer b, DevicePointer sums,
                             DevicePointer out, int mode, double eps) {
        int n = layout.n();
        int c = layout.c();
        int l = layout.l();
        CudaNormPlan.ColumnShape s = plan.columnStreaming(c, l);
        LaunchConfig cfg = new LaunchConfig(s.tiles(c, l), s.chunks(n), 1, s.tileCols(), s.rowThreads(), 1,
                4 * (s.tileCols() / l) * t.bytes());
        ptx.colApply(t, cfg, x, dy, mean, var, w, b, sums, out, n, c, l, s.tileCols(), s.rowsPerChunk(), mode, eps);
    }

    /**
     * The statistic geometry of a layout for the statistic kernels, whose y-grid holds one block
     * row per channel group.
     *
     * @throws IllegalStateException when the layout has more channel groups than CUDA's y-grid limit
     */
    private static CudaNormGeometry geometry(NormLayout layout) {
        CudaNormGeometry g = CudaNormGeometry.of(layout);
        if (g.groups() > CudaNormPlan.MAX_GRID_Y) {
            throw new IllegalStateException("cuda norm kernels: " + layout + " has " + g.groups()
                    + " channel groups; the statistic kernels support at most " + CudaNormPlan.MAX_GRID_Y);
        }
        return g;
    }

    /** The running update alone: {@code instances} blocks of {@code channels} statistics averaged. */
    synchronized void updateRunning(DType t, DevicePointer bmean, DevicePointer bvar, int instances, int channels,
                                    long count, double factor, DevicePointer rmean, DevicePointer rvar) {
        int threads = plan.threads(channels);
        LaunchConfig cfg = LaunchConfig.of1d((channels + threads - 1) / threads, threads);
        ptx.updateRunning(t, cfg, bmean, bvar, rmean, rvar, channels, instances, factor,
                (double) count / (count - 1));
    }

    /** Takes a workspace of {@code elems} elements of t and {@code ticketCount} zeroed tickets for this call. */
    private void reserve(DType t, long elems, int ticketCount) {
        releaseWorkspace();
        scratch = allocator.allocate(Math.max(16, elems * t.bytes()));
        long ticketBytes = 4L * Math.max(1, ticketCount);
        tickets = allocator.allocate(ticketBytes);
        driver.memsetZero(tickets, 0, ticketBytes);
    }

    private void releaseWorkspace() {
        if (scratch != null) {
            allocator.release(scratch);
            scratch = null;
        }
        if (tickets != null) {
            allocator.release(tickets);
            tickets = null;
        }
    }
}
