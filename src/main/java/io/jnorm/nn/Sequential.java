package io.jnorm.nn;

import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies its layers in order. Children are named "0", "1", ... as in PyTorch, so state
 * dictionary keys read {@code 0.weight}, {@code 1.running_mean}, ...
 */
public class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... layers) {
        for (Module m : layers) {
            add(m);
        }
    }

    /** Appends a layer under the next index; returns this container. */
    public Sequential add(Module layer) {
        if (layer == null) {
            throw new IllegalArgumentException("Sequential: layer " + layers.size() + " is null");
        }
        for (Module m : layers) {
            if (m == layer) {
                throw new IllegalArgumentException("Sequential: layer " + layers.size() + " (" + layer.getClass().getSimpleName()
                        + ") is already in this container; one module instance cannot appear twice");
            }
        }
        registerModule(Integer.toString(layers.size()), layer);
        layers.add(layer);
        return this;
    }

    /** The layer at {@code index}. */
    public Module get(int index) {
        if (index < 0 || index >= layers.size()) {
            throw new IllegalArgumentException("Sequential: index " + index + " out of range for " + layers.size() + " layers");
        }
        return layers.get(index);
    }

    public int size() {
        return layers.size();
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = x;
        for (Module m : layers) {
            y = m.forward(y);
        }
        return y;
    }
}
