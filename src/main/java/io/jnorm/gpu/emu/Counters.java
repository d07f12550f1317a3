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

    void add(Counters o) {
        warpInstructions += o.warpInstructions;
        threadInstructions += o.threadInstructions;
        globalLoadRequests += o.globalLoadRequests;
        globalStoreRequests += o.globalStoreRequests;
        globalLoadBytes += o.globalLoadBytes;
        globalStoreBytes += o.globalStoreBytes;
        globalLoadSectors += o.globalLoadSectors;
        globalStoreSectors += o.globalStoreSectors;
        sharedRequests += o.sharedRequests;
        sharedWavefronts += o.sharedWavefronts;
        branches += o.branches;
        divergentBranches += o.divergentBranches;
        barriers += o.barriers;
        atomics += o.atomics;
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
