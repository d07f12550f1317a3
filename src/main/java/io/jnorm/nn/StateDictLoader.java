package io.jnorm.nn;

import io.jnorm.autograd.GradMode;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks a state dictionary against a module tree and copies it in. Two phases, so a failed
 * load leaves the module exactly as it was: first every entry is checked and every problem
 * collected, then (only if none is fatal) every value is copied into the existing tensor.
 */
final class StateDictLoader {
    /** Buffers holding running statistics: a NaN or infinity there poisons every later eval. */
    private static final Pattern RUNNING_STAT = Pattern.compile("(running|moving)_.*");

    /** One parameter or buffer of the tree: its dotted key, owner, path of the owner, local name. */
    record Entry(String key, Module owner, String ownerPath, String name, Tensor tensor,
                 boolean parameter, boolean integer) {
    }

    private StateDictLoader() {
    }

    static boolean isRunningStatistic(String localName) {
        return RUNNING_STAT.matcher(localName).matches();
    }

    static StateDictKeys load(Module root, List<Entry> entries, Map<String, Tensor> state, boolean strict) {
        if (state == null) {
            throw new IllegalArgumentException("loadStateDict for " + root.getClass().getSimpleName()
                    + ": the state dictionary is null");
        }
        Map<String, Entry> byKey = new LinkedHashMap<>();
        for (Entry e : entries) {
            byKey.put(e.key(), e);
        }
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (Entry e : entries) {
            if (!state.containsKey(e.key())) {
                missing.add(e.key());
            } else {
                check(e, state.get(e.key()), errors);
            }
        }
        for (String k : state.keySet()) {
            if (!byKey.containsKey(k)) {
                unexpected.add(k);
            }
        }
        if (!errors.isEmpty() || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
            throw new IllegalArgumentException(message(root.getClass().getSimpleName(), strict ? missing : List.of(),
                    strict ? unexpected : List.of(), errors));
        }
        copyAll(entries, state);
        return new StateDictKeys(missing, unexpected);
    }

    /** PyTorch's layout: one tab-indented line per kind of problem. */
    static String message(String owner, List<String> missing, List<String> unexpected, List<String> errors) {
        StringBuilder sb = new StringBuilder("Error(s) in loading state_dict for ").append(owner).append(':');
        if (!missing.isEmpty()) {
            sb.append("\n\tMissing key(s) in state_dict: ").append(quoted(missing)).append('.');
        }
        if (!unexpected.isEmpty()) {
            sb.append("\n\tUnexpected key(s) in state_dict: ").append(quoted(unexpected)).append('.');
        }
        for (String e : errors) {
            sb.append("\n\t").append(e);
        }
        return sb.toString();
    }

    private static String quoted(List<String> keys) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < keys.size(); i++) {
            sb.append(i > 0 ? ", " : "").append('"').append(keys.get(i)).append('"');
        }
        return sb.toString();
    }

    private static void check(Entry e, Tensor v, List<String> errors) {
        String what = e.parameter() ? "param" : "buffer";
        if (v == null || v.isClosed()) {
            errors.add("no value for " + e.key() + ": the state dictionary holds "
                    + (v == null ? "null" : "a freed tensor"));
            return;
        }
        if (!v.shape().equals(e.tensor().shape())) {
            errors.add("size mismatch for " + e.key() + ": copying a " + what + " with shape " + v.shape()
                    + " from checkpoint, the shape in current model is " + e.tensor().shape() + ".");
            return;
        }
        if (v.dtype() != e.tensor().dtype()) {
            errors.add("dtype mismatch for " + e.key() + ": copying a " + what + " of dtype "
                    + v.dtype().numpyName() + " from checkpoint, the dtype in current model is "
                    + e.tensor().dtype().numpyName() + ".");
            return;
        }
        if (e.parameter()) {
            return;
        }
        String layer = layerName(e);
        if (e.integer() || isRunningStatistic(e.name())) {
            double[] values = v.toDoubleArray();
            for (int i = 0; i < values.length; i++) {
                double x = values[i];
                if (isRunningStatistic(e.name()) && !Double.isFinite(x)) {
                    errors.add("non-finite running statistic for " + e.key() + ": " + layer + " buffer '"
                            + e.name() + "' holds " + x + " at flat index " + i + " (of " + values.length
                            + "); a NaN or infinite running statistic would corrupt every eval-mode output");
                    return;
                }
                if (e.integer() && (x != Math.rint(x) || !Double.isFinite(x))) {
                    errors.add("non-integer value for " + e.key() + ": " + layer + " counter '" + e.name()
                            + "' holds " + x + " at flat index " + i);
                    return;
                }
            }
        }
        try {
            e.owner().runValidateLoadedBuffer(e.name(), v);
        } catch (IllegalArgumentException ex) {
            errors.add("invalid value for " + e.key() + ": " + layer + " rejected buffer '" + e.name() + "': "
                    + ex.getMessage());
        }
    }

    private static String layerName(Entry e) {
        String cls = e.owner().getClass().getSimpleName();
        return e.ownerPath().isEmpty() ? "layer " + cls + " (root)" : "layer '" + e.ownerPath() + "' (" + cls + ")";
    }

    private static void copyAll(List<Entry> entries, Map<String, Tensor> state) {
        try (GradMode.Guard g = GradMode.noGrad(); Scope scope = Scope.open()) {
            for (Entry e : entries) {
                Tensor v = state.get(e.key());
                Tensor dst = e.tensor();
                if (v == null || v == dst) {
                    continue;
                }
                Tensor src = v.device().equals(dst.device()) ? v : v.to(dst.device());
                dst.backend().copy(src, dst);
            }
        }
    }
}
