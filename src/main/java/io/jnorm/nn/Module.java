package io.jnorm.nn;

import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A layer: named parameters (trained), named buffers (state such as running statistics,
 * step counters, gate state), child modules, and a train/eval mode.
 *
 * <p>A module owns its parameters and buffers: they never belong to a {@link Scope}, and
 * {@link #close()} frees them. Names in the state dictionary are dotted paths
 * ("block.0.running_mean"), as in PyTorch.
 */
public abstract class Module implements AutoCloseable {
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** The forward computation. */
    public abstract Tensor forward(Tensor x);

    /** Registers a trainable tensor (it is made a gradient-requiring leaf owned by this module). */
    protected Tensor registerParameter(String name, Tensor t) {
        checkName(name);
        Scope.escape(t).requiresGrad(true);
        parameters.put(name, t);
        return t;
    }

    /** Registers state that is saved and loaded but not trained. */
    protected Tensor registerBuffer(String name, Tensor t) {
        checkName(name);
        buffers.put(name, Scope.escape(t));
        return t;
    }

    /** Replaces a registered buffer's tensor (running statistics are updated by replacement). */
    protected void setBuffer(String name, Tensor t) {
        Tensor old = buffers.get(name);
        if (old == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": no buffer named '" + name + "'");
        }
        buffers.put(name, Scope.escape(t));
        if (old != t) {
            old.close();
        }
    }

    protected <M extends Module> M registerModule(String name, M m) {
        checkName(name);
        children.put(name, m);
        return m;
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": bad member name '" + name + "'");
        }
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": '" + name + "' registered twice");
        }
    }

    public Tensor parameter(String name) {
        return parameters.get(name);
    }

    public Tensor buffer(String name) {
        return buffers.get(name);
    }

    /** Direct parameters only, by local name. */
    public Map<String, Tensor> localParameters() {
        return Collections.unmodifiableMap(parameters);
    }

    public Map<String, Tensor> localBuffers() {
        return Collections.unmodifiableMap(buffers);
    }

    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Every parameter of this module and its descendants, by dotted name. */
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, true);
        return out;
    }

    /** Every buffer of this module and its descendants, by dotted name. */
    public Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, false);
        return out;
    }

    private void collect(String prefix, Map<String, Tensor> out, boolean params) {
        (params ? parameters : buffers).forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, m) -> m.collect(prefix + k + ".", out, params));
    }

    public List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    public boolean isTraining() {
        return training;
    }

    /** Sets training mode on this module and every descendant. */
    public Module train(boolean on) {
        training = on;
        children.values().forEach(c -> c.train(on));
        return this;
    }

    public Module eval() {
        return train(false);
    }

    /** Drops every parameter's gradient. */
    public void zeroGrad() {
        parameters().forEach(Tensor::zeroGrad);
    }

    /** Frees parameters and buffers of this module and its descendants. */
    @Override
    public void close() {
        parameters.values().forEach(Tensor::close);
        buffers.values().forEach(Tensor::close);
        children.values().forEach(Module::close);
    }
}
