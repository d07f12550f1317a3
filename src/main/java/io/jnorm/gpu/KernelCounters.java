package io.jnorm.gpu;

/**
 * Counters of one kernel launch as the emulator observes them. They are how kernel quality is
 * judged without a GPU: bytes moved against the op's minimum, sectors per request
 * (coalescing), shared-memory wavefronts per request (bank conflicts), divergence.
 *
 * @param warpInstructions       instructions issued per warp (one per active group)
 * @param threadInstructions     instructions summed over active lanes
 * @param globalLoadRequests     warp-level global load instructions executed
 * @param globalStoreRequests    warp-level global store instructions executed
 * @param globalLoadBytes        bytes requested by active lanes of global loads
 * @param globalStoreBytes       bytes requested by active lanes of global stores
 * @param globalLoadSectors      distinct 32-byte sectors touched, summed over load requests
 * @param globalStoreSectors     distinct 32-byte sectors touched, summed over store requests
 * @param sharedRequests         warp-level shared-memory loads and stores executed
 * @param sharedWavefronts       shared wavefronts (1 per request when conflict free)
 * @param branches               warp-level conditional branches executed
 * @param divergentBranches      of those, branches whose active lanes went both ways
 * @param barriers               bar.sync executions (per warp)
 * @param atomics                warp-level atomic / reduction instructions executed
 */
public record KernelCounters(
        String kernel,
        long warpInstructions,
        long threadInstructions,
        long globalLoadRequests,
        long globalStoreRequests,
        long globalLoadBytes,
        long globalStoreBytes,
        long globalLoadSectors,
        long globalStoreSectors,
        long sharedRequests,
        long sharedWavefronts,
        long branches,
        long divergentBranches,
        long barriers,
        long atomics) {

    public long globalBytes() {
        return globalLoadBytes + globalStoreBytes;
    }

    /** Average 32-byte sectors per global load request (4 is ideal for coalesced f32). */
    public double loadSectorsPerRequest() {
        return globalLoadRequests == 0 ? 0 : (double) globalLoadSectors / globalLoadRequests;
    }

    public double storeSectorsPerRequest() {
        return globalStoreRequests == 0 ? 0 : (double) globalStoreSectors / globalStoreRequests;
    }

    /** Average shared wavefronts per request (1 is conflict free, 32 is a 32-way conflict). */
    public double sharedWavefrontsPerRequest() {
        return sharedRequests == 0 ? 0 : (double) sharedWavefronts / sharedRequests;
    }
}
