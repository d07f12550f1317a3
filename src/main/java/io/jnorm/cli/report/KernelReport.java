package io.jnorm.cli.report;

import io.jnorm.backend.cuda.CudaBackend;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The kernel-quality report of issue 5, computed without a GPU: {@code ptxas -v} numbers per
 * kernel, and per op the emulator's counters summed over every launch of its forward and its
 * backward, judged against the budgets. {@link #failures()} lists every regression;
 * {@link ReportFormat} renders Markdown and JSON.
 *
 * <p>Measured in float32 on {@link Device#emulatedGpu()} (the backend this JVM already has for
 * it; its sanitizer setting does not change the counters).
 *
 * @param ptxas the ptxas section (or why it is absent)
 * @param ops   one result per op and shape
 */
public record KernelReport(PtxasReport.Result ptxas, List<OpResult> ops, Map<String, KernelTotals> kernels) {

    /**
     * One kernel's counters summed over every launch the report made.
     *
     * @param launches  how often it ran
     * @param counters  the emulator's counters, summed
     * @param vector16  whether its PTX has 16-byte global vector loads
     */
    public record KernelTotals(long launches, KernelCounters counters, boolean vector16) {
    }

    /** Coalescing: requested bytes per byte of sectors touched, at least 90% of ideal. */
    static final double MIN_EFFICIENCY = 0.9;
    /** Slack on byte budgets for per-statistic vectors, grid partials and tickets, in T. */
    static final double BYTE_SLACK = 0.1;
    /**
     * Byte budgets judge sector bytes (32 x sectors touched per warp request), not requested
     * bytes: the sectors are what the memory system moves. Requested bytes overstate broadcast
     * operands (32 lanes reading one float request 128 B but move one sector) and understate
     * strided ones (a lane stride of 2 floats requests 128 B and moves 256 B).
     */
    private static final String BYTES_RULE = "tensor-sized transfers in sector bytes, + " + BYTE_SLACK + " T slack";
    /** 16-byte vectors: share of the forward's load bytes moved by kernels built with them. */
    static final double MIN_VECTOR_SHARE = 0.9;
    /** Atomics: at most one warp-level atomic per 256 elements (per-element atomics give 1 per 32). */
    static final double MAX_ATOMICS_PER_ELEMENT = 1.0 / 256;

    /**
     * Measures every case of {@link OpCatalog#standard()} and, when {@code withPtxas}, runs ptxas.
     *
     * @param progress told the name of each op as it starts (for a command line); may be null
     */
    public static KernelReport build(boolean withPtxas, Consumer<String> progress) {
        return build(OpCatalog.standard(), withPtxas, progress);
    }

    static KernelReport build(List<OpCase> cases, boolean withPtxas, Consumer<String> progress) {
        // ptxas runs in its own processes while the emulator measures: two cores, half the wait.
        java.util.concurrent.CompletableFuture<PtxasReport.Result> ptxasRun = withPtxas
                ? java.util.concurrent.CompletableFuture.supplyAsync(PtxasReport::run)
                : java.util.concurrent.CompletableFuture.completedFuture(
                        new PtxasReport.Result(false, "ptxas section not requested (--no-ptxas)", List.of()));
        OpMeter meter = new OpMeter(CudaBackend.of(Device.emulatedGpu()));
        VectorLoads vec = new VectorLoads();
        List<OpResult> ops = new ArrayList<>();
        Map<String, KernelTotals> kernels = new TreeMap<>();
        Consumer<OpMeter.Delta> collect = d -> d.counters().forEach((k, c) -> kernels.merge(k,
                new KernelTotals(d.launches().get(k), c, vec.has(k)),
                (a, b) -> new KernelTotals(a.launches() + b.launches(), OpMeter.combine(a.counters(), b.counters(), 1),
                        a.vector16())));
        for (OpCase c : cases) {
            if (progress != null) {
                progress.accept(c.op() + " " + c.shape());
            }
            ops.add(measure(meter, vec, collect, c));
        }
        PtxasReport.Result ptxas;
        try {
            ptxas = ptxasRun.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
        return new KernelReport(ptxas, List.copyOf(ops), java.util.Collections.unmodifiableMap(kernels));
    }

    private static OpResult measure(OpMeter meter, VectorLoads vec, Consumer<OpMeter.Delta> collect, OpCase c) {
        DType t = DType.F32;
        try (Scope scope = Scope.open()) {
            OpCase.Setup s = c.setup().apply(Device.emulatedGpu(), t);
            try {
                Tensor[] y = new Tensor[1];
                OpMeter.Delta fwd = meter.measure(() -> y[0] = s.fn().apply(s.x()));
                Tensor gy = Tensor.randn(new Rng(99), y[0].shape(), t, y[0].device());
                OpMeter.Delta bwd = meter.measure(() -> y[0].backward(gy));
                collect.accept(fwd);
                collect.accept(bwd);
                long tBytes = s.x().numel() * t.bytes();
                OpResult.Pass f = pass(fwd, vec, tBytes, s.paramBytes() + 2 * s.stateBytes(), c.fwdMin(), s.x().numel());
                OpResult.Pass b = pass(bwd, vec, tBytes, 2 * s.paramBytes(), c.bwdMin(), s.x().numel());
                Map<String, Long> fallbacks = new java.util.TreeMap<>(fwd.fallbacks());
                bwd.fallbacks().forEach((k, v) -> fallbacks.merge(k, v, Long::sum));
                return new OpResult(c.op(), c.shape(), c.fits(), f, b, fallbacks, checks(c, f, b, fallbacks));
            } finally {
                if (s.owner() != null) {
                    s.owner().close();
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("kernel-report: measuring " + c.op() + " " + c.shape() + " failed: " + e, e);
        }
    }

    private static OpResult.Pass pass(OpMeter.Delta d, VectorLoads vec, long tBytes, long small, double minimum,
                                      long elements) {
        KernelCounters k = d.total();
        long vecLoads = d.counters().entrySet().stream().filter(e -> vec.has(e.getKey()))
                .mapToLong(e -> e.getValue().globalLoadBytes()).sum();
        double vectorShare = k.globalLoadBytes() == 0 ? 0 : (double) vecLoads / k.globalLoadBytes();
        long sectors = k.globalLoadSectors() + k.globalStoreSectors();
        double eff = sectors == 0 ? 1 : k.globalBytes() / (32.0 * sectors);
        double ldPerReq = k.globalLoadRequests() == 0 ? 0 : (double) k.globalLoadBytes() / k.globalLoadRequests();
        double transfers = (double) Math.max(0, k.globalBytes() - small) / tBytes;
        long sectorBytes = 32L * sectors;
        double sectorTransfers = (double) Math.max(0, sectorBytes - small) / tBytes;
        return new OpResult.Pass(d.launchCount(), d.launches(), k.globalBytes(), sectorBytes, tBytes, small, transfers,
                sectorTransfers, minimum, eff,
                ldPerReq, vectorShare, k.atomics(), elements);
    }

    private static List<OpResult.Check> checks(OpCase c, OpResult.Pass f, OpResult.Pass b, Map<String, Long> fallbacks) {
        List<OpResult.Check> out = new ArrayList<>();
        long fb = fallbacks.values().stream().mapToLong(Long::longValue).sum();
        out.add(new OpResult.Check("host fallback", fb, 0, false, fb == 0,
                "calls that ran on the CPU reference instead of a kernel" + (fb == 0 ? "" : ": " + fallbacks.keySet())));
        if (!Double.isNaN(c.fwdBudget())) {
            out.add(new OpResult.Check("fwd bytes", f.sectorTransfers(), c.fwdBudget(), false,
                    f.sectorTransfers() <= c.fwdBudget() + BYTE_SLACK, BYTES_RULE));
        }
        if (!Double.isNaN(c.bwdBudget())) {
            out.add(new OpResult.Check("bwd bytes", b.sectorTransfers(), c.bwdBudget(), false,
                    b.sectorTransfers() <= c.bwdBudget() + BYTE_SLACK, BYTES_RULE));
        }
        if (c.fwdLaunches() > 0) {
            out.add(new OpResult.Check("fwd launches", f.launches(), c.fwdLaunches(), false, f.launches() <= c.fwdLaunches(),
                    "kernel launches of the forward"));
        }
        for (OpResult.Pass p : List.of(f, b)) {
            String phase = p == f ? "fwd" : "bwd";
            if (p.bytes() > 0) {
                out.add(new OpResult.Check(phase + " coalescing", p.efficiency(), MIN_EFFICIENCY, true,
                        p.efficiency() >= MIN_EFFICIENCY, "bytes requested / (32 x sectors touched)"));
            }
            double atomicsPerElement = (double) p.atomics() / p.elements();
            out.add(new OpResult.Check(phase + " atomics", atomicsPerElement, MAX_ATOMICS_PER_ELEMENT, false,
                    atomicsPerElement <= MAX_ATOMICS_PER_ELEMENT, "warp-level atomics per element"));
        }
        if (c.vectorizable() && f.bytes() > 0) {
            out.add(new OpResult.Check("fwd vector loads", f.vectorShare(), MIN_VECTOR_SHARE, true,
                    f.vectorShare() >= MIN_VECTOR_SHARE,
                    "share of load bytes moved by kernels with 16-byte vector loads"));
        }
        return out;
    }

    /** Every failed budget, one line each: op, shape, measure, value, budget. */
    public List<String> failures() {
        List<String> out = new ArrayList<>();
        for (PtxasReport.Kernel k : ptxas.kernels()) {
            if (!k.clean()) {
                out.add(String.format(Locale.ROOT, "%s (%s.ptx, %s): %d B stack frame, %d B spill stores, %d B spill loads; budget 0",
                        k.kernel(), k.module(), k.arch(), k.stackBytes(), k.spillStores(), k.spillLoads()));
            }
        }
        ops.forEach(o -> out.addAll(o.failures()));
        return out;
    }

    static String number(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.4g", v);
    }
}
