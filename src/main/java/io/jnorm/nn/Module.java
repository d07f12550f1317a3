package io.jnorm.nn;

import io.jnorm.autograd.GradMode;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A layer: named parameters (trained), named buffers (state such as running statistics,
 * step counters, gate state), child modules, and a train/eval mode.
 *
 * <p>A module owns its parameters and buffers: they never belong to a {@link Scope}, and
 * {@link #close()} frees them. Names in the state dictionary are dotted paths
 * ("block.0.running_mean"), as in PyTorch.
 *
 * <h2>State</h2>
 * {@link #stateDict()} lists every parameter and buffer in PyTorch's order (a module's own
 * parameters, then its own buffers, then each child's entries in registration order).
 * {@link #loadStateDict(Map, boolean)} checks names, shapes, dtypes and running statistics
 * before copying anything, then copies the values into the module's existing tensors, so an
 * optimizer holding a parameter keeps a valid reference. {@link #save} / {@link #load} write
 * and read a NumPy {@code .npz}; {@link #saveNpyDir} / {@link #loadNpyDir} a folder of
 * {@code .npy} files.
 *
 * <h2>Integer buffers</h2>
 * jnorm tensors are float32 or float64; counters (PyTorch's {@code num_batches_tracked}, a
 * layer's step count) are float64 tensors registered with {@code integer = true}. float64 holds
 * every integer up to 2^53 exactly; such buffers are written to disk as int64 arrays (what
 * PyTorch writes) and read back exactly. Every other tensor is written in its own dtype.
 */
public abstract class Module implements AutoCloseable, StateDictOwner {
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Set<String> integerBuffers = new HashSet<>();
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

    /** Registers floating-point state that is saved and loaded but not trained. */
    protected Tensor registerBuffer(String name, Tensor t) {
        return registerBuffer(name, t, false);
    }

    /**
     * Registers state that is saved and loaded but not trained.
     *
     * @param integer true for counters: the tensor must be float64 and hold whole numbers; it
     *                is saved as int64 and loading rejects values that are not whole numbers
     */
    protected Tensor registerBuffer(String name, Tensor t, boolean integer) {
        checkName(name);
        if (integer) {
            checkIntegerDtype(name, t);
            integerBuffers.add(name);
        }
        buffers.put(name, Scope.escape(t));
        return t;
    }

    /**
     * Sets a registered buffer to {@code value}'s values. The values are copied INTO the
     * buffer's existing tensor (on the buffer's device, without gradient tracking), so a
     * {@link #stateDict()} taken earlier, an optimizer or a user holding the buffer keeps reading
     * the current state. The module takes {@code value}: it is freed after the copy (unless it is
     * the buffer itself).
     *
     * @throws IllegalArgumentException naming the layer and buffer when there is no such buffer,
     *         or {@code value}'s shape or dtype differs from the buffer's
     */
    protected void setBuffer(String name, Tensor value) {
        Tensor buffer = buffers.get(name);
        if (buffer == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": no buffer named '" + name + "'");
        }
        if (value == buffer) {
            return;
        }
        if (integerBuffers.contains(name)) {
            checkIntegerDtype(name, value);
        }
        if (!value.shape().equals(buffer.shape()) || value.dtype() != buffer.dtype()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": buffer '" + name + "' is "
                    + buffer.dtype() + " " + buffer.shape() + ", cannot set it from " + value.dtype() + " "
                    + value.shape());
        }
        try (GradMode.Guard g = GradMode.noGrad()) {
            Tensor src = value.device().equals(buffer.device()) ? value : value.to(buffer.device());
            buffer.backend().copy(src, buffer);
            if (src != value) {
                src.close();
            }
        }
        value.close();
    }

    private void checkIntegerDtype(String name, Tensor t) {
        if (t.dtype() != DType.F64) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": integer buffer '" + name
                    + "' must be float64 (exact for whole numbers up to 2^53), got " + t.dtype() + " " + t.shape());
        }
    }

    protected <M extends Module> M registerModule(String name, M m) {
        checkName(name);
        if (m == null || m == this) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": child '" + name
                    + "' must be another, non-null module");
        }
        children.put(name, m);
        return m;
    }

    private void checkName(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
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

    /** Whether the local buffer {@code name} was registered as an integer counter. */
    public boolean isIntegerBuffer(String name) {
        return integerBuffers.contains(name);
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

    /** This module (name "") and every descendant, by dotted path, parents before children. */
    public Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collectModules("", out);
        return out;
    }

    private void collectModules(String path, Map<String, Module> out) {
        out.put(path, this);
        children.forEach((k, m) -> m.collectModules(path.isEmpty() ? k : path + "." + k, out));
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

    /** Number of trainable scalars. */
    public long numParameters() {
        long n = 0;
        for (Tensor t : parameters()) {
            n += t.numel();
        }
        return n;
    }

    // ---------------------------------------------------------------- state dictionary

    /**
     * Parameters and buffers by dotted name in PyTorch's order. The values are this module's
     * own tensors (not copies): read them, save them, but do not close them. They stay the same
     * tensors for the module's life (training updates running statistics, counters and gate
     * state in place, and {@link #loadStateDict} copies into them), so a dictionary taken once
     * always reads the current state.
     */
    @Override
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (StateDictLoader.Entry e : entries()) {
            out.put(e.key(), e.tensor());
        }
        return out;
    }

    /** Dotted names of the buffers registered as integer counters (saved as int64). */
    @Override
    public Set<String> integerStateKeys() {
        Set<String> out = new LinkedHashSet<>();
        for (StateDictLoader.Entry e : entries()) {
            if (e.integer()) {
                out.add(e.key());
            }
        }
        return out;
    }

    /**
     * Copies a state dictionary into this module's tensors.
     *
     * <p>Everything is checked before anything is copied, and every problem is reported in one
     * {@link IllegalArgumentException} (as PyTorch does): missing and unexpected names (errors
     * only when {@code strict}), size and dtype mismatches (always errors), counters that are
     * not whole numbers, NaN or infinite running statistics (buffers named {@code running_*} or
     * {@code moving_*}), and whatever {@link #validateLoadedBuffer} of the owning layer
     * rejects. Values on another device are moved to the module's device.
     *
     * @return the names that were missing or unexpected (empty lists in a strict load)
     */
    @Override
    public StateDictKeys loadStateDict(Map<String, Tensor> state, boolean strict) {
        return StateDictLoader.load(this, entries(), state, strict);
    }

    /** Strict load: every name must match. */
    public StateDictKeys loadStateDict(Map<String, Tensor> state) {
        return loadStateDict(state, true);
    }

    /**
     * A layer's own check of a buffer value about to be loaded (after names, shapes, dtypes and
     * the running-statistics check passed). Throw {@link IllegalArgumentException} with a
     * message saying what is wrong; the loader adds the layer and buffer names. The default
     * accepts everything.
     *
     * @param name  the buffer's local name in this module
     * @param value the incoming value (not yet copied; do not keep or close it)
     */
    protected void validateLoadedBuffer(String name, Tensor value) {
    }

    final void runValidateLoadedBuffer(String name, Tensor value) {
        validateLoadedBuffer(name, value);
    }

    private List<StateDictLoader.Entry> entries() {
        List<StateDictLoader.Entry> out = new ArrayList<>();
        collectEntries("", "", out);
        return out;
    }

    private void collectEntries(String path, String prefix, List<StateDictLoader.Entry> out) {
        parameters.forEach((k, v) -> out.add(new StateDictLoader.Entry(prefix + k, this, path, k, v, true, false)));
        buffers.forEach((k, v) -> out.add(new StateDictLoader.Entry(prefix + k, this, path, k, v, false,
                integerBuffers.contains(k))));
        children.forEach((k, m) -> m.collectEntries(path.isEmpty() ? k : path + "." + k, prefix + k + ".", out));
    }

    // ---------------------------------------------------------------- modes and lifetime

    public boolean isTraining() {
        return training;
    }

    /** Sets training mode on this module and every descendant. */
    public Module train(boolean on) {
        training = on;
        children.values().forEach(c -> c.train(on));
        return this;
    }

    /** Training mode on this module and every descendant. */
    public Module train() {
        return train(true);
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

    // ---------------------------------------------------------------- printing

    /**
     * The layer's settings for {@link #toString()}, e.g. {@code "in=4, out=3, bias=true"};
     * empty by default.
     */
    protected String extraRepr() {
        return "";
    }

    /** PyTorch-style tree: {@code Sequential(\n  (0): Linear(in=4, out=3, bias=true)\n ...)}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append('(').append(extraRepr());
        if (!children.isEmpty()) {
            sb.append('\n');
            children.forEach((k, m) -> sb.append("  (").append(k).append("): ")
                    .append(m.toString().replace("\n", "\n  ")).append('\n'));
        }
        return sb.append(')').toString();
    }
}
