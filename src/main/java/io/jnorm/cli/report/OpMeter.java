package io.jnorm.cli.report;

import io.jnorm.backend.cuda.CudaBackend;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.gpu.emu.PtxEmulator;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Measures what a piece of work launched on the emulated GPU: the launches of each kernel, the
 * host fallbacks of each op, and the emulator's counters summed over those launches. It diffs the
 * backend's cumulative launch log and the emulator's per-kernel counter sums before and after,
 * so it sees every launch the work made, whichever family or helper issued it.
 */
final class OpMeter {
    private final CudaBackend backend;
    private final PtxEmulator emulator;

    /**
     * @throws IllegalArgumentException when the backend's driver is not the PTX emulator (a real
     *                                  GPU reports no counters; profile it with Nsight Compute)
     */
    OpMeter(CudaBackend backend) {
        if (!(backend.driver() instanceof PtxEmulator emu)) {
            throw new IllegalArgumentException("kernel-report: the backend of " + backend.device()
                    + " does not run on the PTX emulator, so it has no counters; use Nsight Compute on a real GPU");
        }
        this.backend = backend;
        this.emulator = emu;
    }

    /** What one measured piece of work did. */
    record Delta(Map<String, Long> launches, Map<String, Long> fallbacks, Map<String, KernelCounters> counters) {
        long launchCount() {
            return launches.values().stream().mapToLong(Long::longValue).sum();
        }

        /** The counters of every launch, summed. */
        KernelCounters total() {
            KernelCounters sum = zero("total");
            for (KernelCounters c : counters.values()) {
                sum = combine(sum, c, 1);
            }
            return sum;
        }
    }

    /** Runs {@code work}, waits for the device, and returns what it launched. */
    Delta measure(Runnable work) {
        Map<String, Long> launchesBefore = backend.launchLog().launchCounts();
        Map<String, Long> fallbacksBefore = backend.launchLog().fallbackCounts();
        Map<String, KernelCounters> countersBefore = new HashMap<>();
        launchesBefore.keySet().forEach(k -> emulator.accumulatedCounters(k).ifPresent(c -> countersBefore.put(k, c)));
        work.run();
        backend.synchronize();
        Map<String, Long> launches = diff(launchesBefore, backend.launchLog().launchCounts());
        Map<String, Long> fallbacks = diff(fallbacksBefore, backend.launchLog().fallbackCounts());
        Map<String, KernelCounters> counters = new TreeMap<>();
        for (String k : launches.keySet()) {
            KernelCounters after = emulator.accumulatedCounters(k).orElse(zero(k));
            counters.put(k, combine(after, countersBefore.getOrDefault(k, zero(k)), -1));
        }
        return new Delta(launches, fallbacks, counters);
    }

    private static Map<String, Long> diff(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> out = new TreeMap<>();
        after.forEach((k, v) -> {
            long d = v - before.getOrDefault(k, 0L);
            if (d > 0) {
                out.put(k, d);
            }
        });
        return out;
    }

    static KernelCounters zero(String kernel) {
        return new KernelCounters(kernel, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /** a + sign * b, field by field, keeping a's kernel name. */
    static KernelCounters combine(KernelCounters a, KernelCounters b, int sign) {
        return new KernelCounters(a.kernel(),
                a.warpInstructions() + sign * b.warpInstructions(),
                a.threadInstructions() + sign * b.threadInstructions(),
                a.globalLoadRequests() + sign * b.globalLoadRequests(),
                a.globalStoreRequests() + sign * b.globalStoreRequests(),
                a.globalLoadBytes() + sign * b.globalLoadBytes(),
                a.globalStoreBytes() + sign * b.globalStoreBytes(),
                a.globalLoadSectors() + sign * b.globalLoadSectors(),
                a.globalStoreSectors() + sign * b.globalStoreSectors(),
                a.sharedRequests() + sign * b.sharedRequests(),
                a.sharedWavefronts() + sign * b.sharedWavefronts(),
                a.branches() + sign * b.branches(),
                a.divergentBranches() + sign * b.divergentBranches(),
                a.barriers() + sign * b.barriers(),
                a.atomics() + sign * b.atomics());
    }
}
