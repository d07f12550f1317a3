package io.jnorm.gpu.emu;

/**
 * How the emulator runs launches.
 *
 * @param sanitizer     extra checks that cost time: reads of uninitialised shared and device
 *                      memory, warp-sync member masks naming exited lanes, barrier divergence.
 *                      Out-of-bounds, misaligned, use-after-free and null accesses are always
 *                      checked, because the emulator cannot execute them safely anyway.
 * @param strict        randomised block order, warp order, warp time slices and lane-group order,
 *                      so that code relying on a scheduling accident (a missing barrier) fails
 * @param seed          seed of the strict-mode schedule (a failing seed reproduces)
 * @param workerThreads threads that run independent blocks of one launch; counters are sums and
 *                      the first fault reported is the one of the lowest block, so results do not
 *                      depend on this number (except for float atomics, whose order they change)
 */
public record EmulatorOptions(boolean sanitizer, boolean strict, long seed, int workerThreads) {

    public EmulatorOptions {
        if (workerThreads < 1) {
            throw new IllegalArgumentException("EmulatorOptions: workerThreads must be >= 1, got " + workerThreads);
        }
    }

    /** Sanitizer on, deterministic schedule, one worker: what tests want. */
    public static EmulatorOptions defaults() {
        return new EmulatorOptions(true, false, 0, 1);
    }

    /** Sanitizer off: the fastest setting, for benchmarks and large runs. */
    public static EmulatorOptions fast() {
        return new EmulatorOptions(false, false, 0, 1);
    }

    public EmulatorOptions withSanitizer(boolean on) {
        return new EmulatorOptions(on, strict, seed, workerThreads);
    }

    public EmulatorOptions withStrict(long scheduleSeed) {
        return new EmulatorOptions(sanitizer, true, scheduleSeed, workerThreads);
    }

    public EmulatorOptions withWorkerThreads(int n) {
        return new EmulatorOptions(sanitizer, strict, seed, n);
    }
}
