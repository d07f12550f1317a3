package io.jnorm.optim;

import io.jnorm.autograd.GradMode;
import io.jnorm.nn.StateDictKeys;
import io.jnorm.nn.StateDictOwner;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Updates a fixed list of parameters from their gradients, in place.
 *
 * <p>{@link #step()} computes each new value with ops in no-grad mode and copies it into the
 * parameter's own memory with the backend's copy, so the module, this optimizer and anyone else
 * holding the parameter keep the same tensor. Parameters without a gradient are skipped, as in
 * PyTorch. Per-parameter state (momentum buffers, moments, step counts) is created lazily on a
 * parameter's first update, owned by the optimizer and freed by {@link #close()}.
 *
 * <p>The state dictionary holds that per-parameter state under {@code state.<i>.<name>}, i the
 * parameter's position in the constructor's list (PyTorch's numbering); counters such as
 * {@code step} are float64 in memory and int64 on disk. Hyper-parameters are not part of it:
 * they are the constructor's arguments (and {@link #setLr}).
 */
public abstract class Optimizer implements StateDictOwner, AutoCloseable {
    private final String name;
    private final List<Tensor> params;
    private final List<Map<String, Tensor>> state;
    private double lr;

    /**
     * @param name   the optimizer's name for messages
     * @param params the tensors to update: distinct leaves that require grad
     */
    protected Optimizer(String name, List<Tensor> params, double lr) {
        this.name = name;
        if (params == null || params.isEmpty()) {
            throw new IllegalArgumentException(name + ": optimizer got an empty parameter list");
        }
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            if (p == null || p.isClosed()) {
                throw new IllegalArgumentException(name + ": parameter " + i + " is " + (p == null ? "null" : "freed"));
            }
            if (!p.requiresGrad() || !p.isLeaf()) {
                throw new IllegalArgumentException(name + ": parameter " + i + " " + p.shape()
                        + " must be a leaf that requires grad");
            }
            if (!seen.add(p)) {
                throw new IllegalArgumentException(name + ": parameter " + i + " " + p.shape()
                        + " appears more than once in the parameter list");
            }
        }
        this.params = List.copyOf(params);
        this.state = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            state.add(new LinkedHashMap<>());
        }
        setLr(lr);
    }

    /** The learning rate. */
    public double lr() {
        return lr;
    }

    /** Changes the learning rate (for schedules). */
    public void setLr(double lr) {
        if (!(lr >= 0.0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException(name + ": invalid learning rate: " + lr + " (must be finite and >= 0)");
        }
        this.lr = lr;
    }

    /** The parameters, in the constructor's order. */
    public List<Tensor> params() {
        return params;
    }

    /** One update of every parameter that has a gradient. */
    public final void step() {
        try (GradMode.Guard g = GradMode.noGrad(); Scope scope = Scope.open()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i);
                Tensor grad = p.grad();
                if (grad == null) {
                    continue;
                }
                if (!grad.shape().equals(p.shape()) || grad.dtype() != p.dtype()) {
                    throw new IllegalStateException(name + ": gradient " + grad.shape() + " " + grad.dtype()
                            + " does not match parameter " + i + " " + p.shape() + " " + p.dtype());
                }
                update(i, p, grad);
            }
        }
    }

    /**
     * Updates parameter {@code index}. Runs in no-grad mode inside a scope that frees every
     * temporary; write results with {@link #assign} and create state with {@link #putState}.
     */
    protected abstract void update(int index, Tensor param, Tensor grad);

    /** Names of the per-parameter state this optimizer keeps, e.g. "momentum_buffer". */
    protected abstract List<String> stateNames();

    /** The subset of {@link #stateNames()} that are whole-number counters. */
    protected List<String> integerStateNames() {
        return List.of();
    }

    /** Drops every parameter's gradient. */
    public void zeroGrad() {
        params.forEach(Tensor::zeroGrad);
    }

    /** Copies {@code value} into {@code target}'s memory (same shape), keeping the target tensor. */
    protected static void assign(Tensor target, Tensor value) {
        if (!value.shape().equals(target.shape())) {
            throw new IllegalStateException("assign: value " + value.shape() + " does not match target " + target.shape());
        }
        target.backend().copy(value, target);
    }

    /** The state named {@code key} of parameter {@code index}, or null before it exists. */
    protected Tensor state(int index, String key) {
        return state.get(index).get(key);
    }

    /** Stores a new state tensor (taken out of the step's scope; the optimizer owns it). */
    protected Tensor putState(int index, String key, Tensor value) {
        Tensor old = state.get(index).put(key, Scope.escape(value));
        if (old != null && old != value) {
            old.close();
        }
        return value;
    }

    /** A float64 0-d counter. */
    protected static Tensor counter(double value, Tensor like) {
        return Tensor.scalar(value, DType.F64, like.device());
    }

    // ------------------------------------------------------------ state dictionary

    @Override
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < state.size(); i++) {
            for (Map.Entry<String, Tensor> e : state.get(i).entrySet()) {
                out.put("state." + i + "." + e.getKey(), e.getValue());
            }
        }
        return out;
    }

    @Override
    public Set<String> integerStateKeys() {
        Set<String> out = new LinkedHashSet<>();
        for (String k : stateDict().keySet()) {
            if (isIntegerStateKey(k)) {
                out.add(k);
            }
        }
        return out;
    }

    @Override
    public boolean isIntegerStateKey(String key) {
        int dot = key.lastIndexOf('.');
        return key.startsWith("state.") && integerStateNames().contains(key.substring(dot + 1));
    }

    /**
     * Replaces the whole per-parameter state with copies of {@code loaded} (as PyTorch does).
     * Every key must be {@code state.<i>.<name>} with a valid index and a known name, a
     * parameter's entries must be all of {@link #stateNames()} or none, and shapes and dtypes
     * must match the parameter (counters: 0-d float64 whole numbers). Unknown keys are errors
     * when {@code strict}, returned as unexpected otherwise; a parameter with no state is never
     * an error (it starts afresh, as on its first step).
     */
    @Override
    public StateDictKeys loadStateDict(Map<String, Tensor> loaded, boolean strict) {
        if (loaded == null) {
            throw new IllegalArgumentException(name + ".loadStateDict: the state dictionary is null");
        }
        List<String> errors = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<Map<String, Tensor>> incoming = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            incoming.add(new LinkedHashMap<>());
        }
        for (Map.Entry<String, Tensor> e : loaded.entrySet()) {
            String key = e.getKey();
            String[] parts = key.split("\\.");
            int index = parts.length == 3 && parts[0].equals("state") ? parseIndex(parts[1]) : -1;
            if (index < 0 || index >= params.size() || !stateNames().contains(parts[2])) {
                unexpected.add(key);
                continue;
            }
            checkEntry(key, index, parts[2], e.getValue(), errors);
            incoming.get(index).put(parts[2], e.getValue());
        }
        for (int i = 0; i < incoming.size(); i++) {
            Set<String> have = incoming.get(i).keySet();
            if (!have.isEmpty() && !have.containsAll(stateNames())) {
                List<String> lacking = new ArrayList<>(stateNames());
                lacking.removeAll(have);
                errors.add("incomplete state for parameter " + i + ": has " + have + " but lacks " + lacking);
            }
        }
        if ((strict && !unexpected.isEmpty()) || !errors.isEmpty()) {
            StringBuilder sb = new StringBuilder("Error(s) in loading state_dict for " + name + ":");
            if (strict && !unexpected.isEmpty()) {
                sb.append("\n\tUnexpected key(s) in state_dict: ").append(unexpected)
                        .append(" (expected state.<0..").append(params.size() - 1).append(">.<")
                        .append(String.join("|", stateNames())).append(">)");
            }
            errors.forEach(m -> sb.append("\n\t").append(m));
            throw new IllegalArgumentException(sb.toString());
        }
        try (GradMode.Guard g = GradMode.noGrad()) {
            for (int i = 0; i < params.size(); i++) {
                Map<String, Tensor> fresh = new LinkedHashMap<>();
                for (String s : stateNames()) {
                    Tensor v = incoming.get(i).get(s);
                    if (v != null) {
                        Tensor own = Scope.escape(Tensor.zeros(v.shape(), v.dtype(), params.get(i).device()));
                        Tensor src = v.device().equals(own.device()) ? v : v.to(own.device());
                        own.backend().copy(src, own);
                        if (src != v) {
                            src.close();
                        }
                        fresh.put(s, own);
                    }
                }
                state.get(i).values().forEach(Tensor::close);
                state.set(i, fresh);
            }
        }
        return new StateDictKeys(List.of(), strict ? List.of() : unexpected);
    }

    private void checkEntry(String key, int index, String stateName, Tensor v, List<String> errors) {
        if (v == null || v.isClosed()) {
            errors.add("no value for " + key + ": the state dictionary holds " + (v == null ? "null" : "a freed tensor"));
            return;
        }
        Tensor p = params.get(index);
        boolean counter = integerStateNames().contains(stateName);
        Shape want = counter ? Shape.scalar() : p.shape();
        DType wantType = counter ? DType.F64 : p.dtype();
        if (!v.shape().equals(want)) {
            errors.add("size mismatch for " + key + ": copying a state with shape " + v.shape()
                    + " from checkpoint, the shape in current optimizer is " + want + ".");
        } else if (v.dtype() != wantType) {
            errors.add("dtype mismatch for " + key + ": copying a state of dtype " + v.dtype().numpyName()
                    + " from checkpoint, the dtype in current optimizer is " + wantType.numpyName() + ".");
        } else if (counter) {
            double c = v.item();
            if (!(c >= 0) || c != Math.rint(c) || Double.isInfinite(c)) {
                errors.add("invalid counter for " + key + ": " + c + " is not a whole number >= 0");
            }
        }
    }

    private static int parseIndex(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Frees the optimizer's state (not the parameters, which belong to their module). */
    @Override
    public void close() {
        for (Map<String, Tensor> m : state) {
            m.values().forEach(Tensor::close);
            m.clear();
        }
    }

    @Override
    public String toString() {
        return name + "(lr=" + lr + ", params=" + params.size() + ")";
    }
}
