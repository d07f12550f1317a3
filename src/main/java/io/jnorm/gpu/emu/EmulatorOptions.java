package io.jnorm.gpu.emu;

/**
 * How the emulator runs launches.
 *
 * @param sanitizer         extra checks that cost time: reads of uninitialised shared and device
 *                          memory, warp-sync member masks naming exited lanes, barrier divergence.
 *                          Out-of-bounds, misaligned, use-after-free and null accesses are always
 *                          checked, because the emulator cannot execute them safely anyway.
 * @param strict            randomised block order, warp order, warp time slices, lane-group order
 *                          and the lane order of atomics within a warp, so that code relying on a
 *                          scheduling accident (a missing barrier, an order of atomics) fails
 * @param seed              seed of the strict-mode schedule (a failing seed reproduces)
 * @param workerThreads     threads that run independent blocks of one launch; counters are sums and
 *                          the first fault reported is the one of the lowest block, so results do
 *                          not depend on this number (except for float atomics, whose order they
 *                          change)
 * @param instructionBudget warp instructions one launch may execute before it fails with
 *                          {@code EMU_TIMEOUT} naming the kernel and block, instead of hanging
 *                          (a block spinning on a flag that a later block sets never ends here,
 *                          because blocks run one after another). With several workers the
 *                          instructions of blocks still running are counted when they finish,
 *                          so the limit is exact for one worker and approximate otherwise.
 */
public record EmulatorOptions(boolean sanitizer, boolean strict, long seed, int workerThreads,
                              long instructionBudget) {

    /** The default budget: 2^34 warp instructions, about an hour of emulation, far more than any test needs. */
    public static final long DEFAULT_INSTRUCTION_BUDGET = 1L << 34;

    public EmulatorOptions {
        if (workerThreads < 1) {
            throw new IllegalArgumentException("EmulatorOptions: workerThreads must be >= 1, got " + workerThreads);
        }
        if (instructionBudget < 1) {
            throw new IllegalArgumentException(
                    "EmulatorOptions: instructionBudget must be >= 1 warp instruction, got " + instructionBudget);
        }
    }

    /** Options with the default instruction budget. */
    public EmulatorOptions(boolean sanitizer, boolean strict, long seed, int workerThreads) {
        this(sanitizer, strict, seed, workerThreads, DEFAULT_INSTRUCTION_BUDGET);
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
        return new EmulatorOptions(on, strict, seed, workerThreads, instructionBudget);
    }

    public EmulatorOptions withStrict(long scheduleSeed) {
        return new EmulatorOptions(sanitizer, true, scheduleSeed, workerThreads, instructionBudget);
    }

    public EmulatorOptions withWorkerThreads(int n) {
        return new EmulatorOptions(sanitizer, strict, seed, n, instructionBudget);
    }

    /** The same options with another per-launch budget of warp instructions. */
    public EmulatorOptions withInstructionBudget(long warpInstructions) {
        return new EmulatorOptions(sanitizer, strict, seed, workerThreads, warpInstructions);
    }
}
