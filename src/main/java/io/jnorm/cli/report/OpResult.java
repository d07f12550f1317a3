package io.jnorm.cli.report;

import java.util.List;
import java.util.Map;

/**
 * What the report measured for one op at one shape, and its verdict per budget.
 *
 * @param op         the op's name
 * @param shape      the main input's shape
 * @param fits       whether its statistic slice fits on chip (null: no statistic)
 * @param forward    the forward pass
 * @param backward   the backward pass
 * @param fallbacks  ops that ran on the CPU reference through host copies instead of kernels
 * @param checks     every budget with its measured value
 */
record OpResult(String op, String shape, Boolean fits, Pass forward, Pass backward, Map<String, Long> fallbacks,
                List<Check> checks) {

    /**
     * One pass (forward or backward) of an op.
     *
     * @param launches      kernel launches
     * @param kernels       kernels launched, with counts
     * @param bytes         global bytes requested (loads + stores) over every launch
     * @param sectorBytes   global bytes moved: 32 x the 32-byte sectors touched by every warp request
     *                      (loads + stores), what the memory system transfers
     * @param tensorBytes   T, the bytes of the op's main input
     * @param smallBytes    bytes of the small vectors the pass needs (parameters, running state)
     * @param transfers     (bytes - smallBytes) / T, requested bytes (shown for reference)
     * @param sectorTransfers (sectorBytes - smallBytes) / T, the measure the byte budgets judge
     * @param minimum       the pass's minimum in T
     * @param efficiency    bytes requested / (32 x sectors touched): 1 is ideal coalescing
     * @param loadBytesPerRequest average bytes a warp's global load requests (128 = 4 B x 32 lanes;
     *                      512 = full 16-byte vectors)
     * @param vectorShare   share of the load bytes moved by kernels whose PTX has 16-byte vector loads
     * @param atomics       warp-level atomic instructions (global and shared)
     * @param elements      elements of the main input
     */
    record Pass(long launches, Map<String, Long> kernels, long bytes, long sectorBytes, long tensorBytes, long smallBytes,
                double transfers, double sectorTransfers, double minimum, double efficiency, double loadBytesPerRequest, double vectorShare, long atomics,
                long elements) {
    }

    /**
     * One budget.
     *
     * @param name     "fwd bytes", "bwd bytes", "fwd launches", "coalescing", "vector loads", "atomics", "host fallback"
     * @param measured the measured value
     * @param budget   the bound it must respect
     * @param lowerBound true when the measure must be at least the budget (coalescing, vector
     *                   loads), false when at most
     * @param pass     whether it does
     * @param detail   the rule, in words
     */
    record Check(String name, double measured, double budget, boolean lowerBound, boolean pass, String detail) {
    }

    boolean passed() {
        return checks.stream().allMatch(Check::pass);
    }

    /** The failed checks as one line each, naming the op, shape, measured value and budget. */
    List<String> failures() {
        return checks.stream().filter(c -> !c.pass())
                .map(c -> String.format(java.util.Locale.ROOT, "%s %s: %s = %.3f, budget %s (%s)", op, shape, c.name(),
                        c.measured(), KernelReport.number(c.budget()), c.detail()))
                .toList();
    }
}
