package io.jnorm.gpu;

/** A point on the driver's stream, for timing. */
public interface GpuEvent {
}
