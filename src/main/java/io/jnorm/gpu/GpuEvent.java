package io.jnorm.gpu;

/**
 * A point on the driver's stream, for timing.
 *
 * <p>Closeable because on a real GPU an event is a driver object: a benchmark that records
 * events in a loop must be able to release them rather than let them pile up until the driver
 * closes. Events with nothing to release (the emulator's) keep the no-op default.
 */
public interface GpuEvent extends AutoCloseable {

    /** Releases the event; idempotent. The driver releases whatever is left when it closes. */
    @Override
    default void close() {
    }
}
