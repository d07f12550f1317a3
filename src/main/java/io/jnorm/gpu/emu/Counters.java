package io.jnorm.gpu.emu;

import io.jnorm.gpu.KernelCounters;

/** Mutable per-worker launch counters; summed into a {@link KernelCounters} at the end of a launch. */
final class Counters {
    long warpInstructions;
    long threadInstructions;
    long globalLoadRequests;
    long globalStoreRequests;
    long globalLoadBytes;
    long globalStoreBytes;
    long globalLoadSectors;
    long globalStoreSectors;
    long sharedRequests;
    long sharedWavefronts;
    long branches;
    long divergentBranches;
    long barriers;
    long atomics;

    void clear() {
        // subtracting itself zeroes every field, including any added later
        add(this, -1);
    }

    void add(Counters o) {
        add(o, 1);
    }

    private void add(Counters o, long sign) {
        warpInstructions += sign * o.warpInstructions;
        threadInstructions += sign * o.threadInstructions;
        globalLoadRequests += sign * o.globalLoadRequests;
        globalStoreRequests += sign * o.globalStoreRequests;
        globalLoadBytes += sign * o.globalLoadBytes;
        globalStoreBytes += sign * o.globalStoreBytes;
        globalLoadSectors += sign * o.globalLoadSectors;
        globalStoreSectors += sign * o.globalStoreSectors;
        sharedRequests += sign * o.sharedRequests;
        sharedWavefronts += sign * o.sharedWavefronts;
        branches += sign * o.branches;
        divergentBranches += sign * o.divergentBranches;
        barriers += sign * o.barriers;
        atomics += sign * o.atomics;
    }

    KernelCounters toRecord(String kernel) {
        return new KernelCounters(kernel, warpInstructions, threadInstructions, globalLoadRequests,
                globalStoreRequests, globalLoadBytes, globalStoreBytes, globalLoadSectors, globalStoreSectors,
                sharedRequests, sharedWavefronts, branches, divergentBranches, barriers, atomics);
    }

    static KernelCounters sum(KernelCounters a, KernelCounters b) {
        return new KernelCounters(a.kernel(), a.warpInstructions() + b.warpInstructions(),
                a.threadInstructions() + b.threadInstructions(), a.globalLoadRequests() + b.globalLoadRequests(),
                a.globalStoreRequests() + b.globalStoreRequests(), a.globalLoadBytes() + b.globalLoadBytes(),
                a.globalStoreBytes() + b.globalStoreBytes(), a.globalLoadSectors() + b.globalLoadSectors(),
                a.globalStoreSectors() + b.globalStoreSectors(), a.sharedRequests() + b.sharedRequests(),
                a.sharedWavefronts() + b.sharedWavefronts(), a.branches() + b.branches(),
                a.divergentBranches() + b.divergentBranches(), a.barriers() + b.barriers(),
                a.atomics() + b.atomics());
    }
}
