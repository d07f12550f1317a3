package io.jnorm.nn;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;

/**
 * The settings every layer builder shares: the dtype and device of the layer's parameters and
 * buffers (float32 on the CPU unless set). Setters return the concrete builder, so they chain
 * with its own options.
 *
 * @param <B> the concrete builder
 */
public abstract class LayerBuilder<B extends LayerBuilder<B>> {
    private final String layer;
    DType dtype = DType.F32;
    Device device = Device.CPU;

    LayerBuilder(String layer) {
        this.layer = layer;
    }

    /** @throws IllegalArgumentException naming the layer for null */
    public B dtype(DType d) {
        if (d == null) {
            throw new IllegalArgumentException(layer + ": dtype must not be null");
        }
        dtype = d;
        return self();
    }

    /** @throws IllegalArgumentException naming the layer for null */
    public B device(Device d) {
        if (d == null) {
            throw new IllegalArgumentException(layer + ": device must not be null");
        }
        device = d;
        return self();
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }
}
