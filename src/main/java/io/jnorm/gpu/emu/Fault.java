package io.jnorm.gpu.emu;

/**
 * A failure inside a running kernel. Thrown without context by the memory and warp code and
 * caught by the block runner, which adds the kernel, PTX line, block and thread.
 */
final class Fault extends RuntimeException {
    static final String OUT_OF_BOUNDS = "EMU_OUT_OF_BOUNDS";
    static final String MISALIGNED = "EMU_MISALIGNED_ADDRESS";
    static final String USE_AFTER_FREE = "EMU_USE_AFTER_FREE";
    static final String UNINITIALIZED = "EMU_UNINITIALIZED_READ";
    static final String WARP_SYNC = "EMU_WARP_SYNC_MISUSE";
    static final String BARRIER_DIVERGENCE = "EMU_BARRIER_DIVERGENCE";
    static final String DEADLOCK = "EMU_BARRIER_DEADLOCK";
    static final String ILLEGAL = "EMU_ILLEGAL_INSTRUCTION";
    static final String TIMEOUT = "EMU_TIMEOUT";

    final String status;
    /** The lane that faulted, or -1 when the fault concerns a whole warp or block. */
    final int lane;

    Fault(String status, String message, int lane) {
        super(message, null, false, false);
        this.status = status;
        this.lane = lane;
    }
}
