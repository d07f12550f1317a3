package io.jnorm.autograd;

import io.jnorm.ops.Ops;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** Records op nodes and runs reverse-mode differentiation over them. */
public final class Autograd {
    private Autograd() {
    }

    /**
     * Attaches a node to {@code output} when grad mode is on and any input requires a
     * gradient. Ops call this once, after computing their output.
     */
    public static Tensor record(String op, Tensor output, BackwardFn backward, Tensor... inputs) {
        if (!GradMode.isEnabled()) {
            return output;
        }
        boolean any = false;
        for (Tensor t : inputs) {
            any |= t != null && t.requiresGrad();
        }
        if (any) {
            output.setGradFn(new Node(op, inputs.clone(), backward));
        }
        return output;
    }

    /**
     * Back-propagates from {@code root}. Gradients are summed into the {@code grad} of every
     * leaf that requires one. Unless {@code retainGraph}, every node's saved tensors are
     * released afterwards: the node drops its closure, which does not free them. Freeing is the
     * job of the Scope that was open when the op ran (or of whoever closes them): the engine
     * cannot tell a saved tensor only the closure holds from one the caller still uses (an
     * input, a forward output), and closing the latter would break the caller.
     */
    public static void backward(Tensor root, Tensor upstream, boolean retainGraph) {
        if (!root.requiresGrad()) {
            throw new IllegalArgumentException("backward: tensor " + root.shape()
                    + " does not require grad (no input of the computation requires grad)");
        }
        if (upstream == null && root.numel() != 1) {
            throw new IllegalArgumentException("backward: an implicit gradient needs a one-element tensor, got "
                    + root.shape() + "; pass the upstream gradient explicitly");
        }
        if (upstream != null && !upstream.shape().equals(root.shape())) {
            throw new IllegalArgumentException("backward: upstream gradient " + upstream.shape()
                    + " does not match tensor " + root.shape());
        }
        List<Tensor> order = topologicalOrder(root);
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        try (GradMode.Guard g = GradMode.noGrad(); Scope scope = Scope.open()) {
            Tensor seed = upstream != null ? Ops.cast(upstream.to(root.device()), root.dtype())
                    : Ops.onesLike(root);
            grads.put(root, seed);
            for (int k = order.size() - 1; k >= 0; k--) {
                Tensor t = order.get(k);
                Tensor gt = grads.remove(t);
                if (gt == null) {
                    continue;
                }
                Node node = t.gradFn();
                if (node == null) {
                    accumulateLeaf(t, gt, scope);
                    continue;
                }
                Tensor[] ins = node.inputs();
                Tensor[] gi = node.apply(gt);
                for (int i = 0; i < ins.length; i++) {
                    Tensor in = ins[i];
                    if (in == null || !in.requiresGrad() || gi[i] == null) {
                        continue;
                    }
                    if (!gi[i].shape().equals(in.shape())) {
                        throw new IllegalStateException("backward of '" + node.op() + "' produced a gradient of shape "
                                + gi[i].shape() + " for input " + i + " of shape " + in.shape());
                    }
                    Tensor prev = grads.get(in);
                    grads.put(in, prev == null ? gi[i] : Ops.add(prev, gi[i]));
                }
                if (!retainGraph) {
                    node.release();
                }
            }
        }
    }

    private static void accumulateLeaf(Tensor leaf, Tensor g, Scope scope) {
        Tensor old = leaf.grad();
        // A leaf owns its gradient, so it must not alias a tensor the scope is about to free.
        Tensor total = old == null ? Ops.copy(g) : Ops.add(old, g);
        scope.keep(total);
        leaf.setGrad(total);
    }

    /** Inputs before outputs, found with an explicit stack so long chains do not overflow. */
    static List<Tensor> topologicalOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        Map<Tensor, Boolean> visited = new IdentityHashMap<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        visited.put(root, Boolean.TRUE);
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Tensor t = (Tensor) frame[0];
            int next = (Integer) frame[1];
            Node node = t.gradFn();
            Tensor[] ins = node == null ? new Tensor[0] : node.inputs();
            if (next < ins.length) {
                frame[1] = next + 1;
                Tensor in = ins[next];
                if (in != null && in.requiresGrad() && visited.put(in, Boolean.TRUE) == null) {
                    stack.push(new Object[] {in, 0});
                }
            } else {
                stack.pop();
                order.add(t);
            }
        }
        return order;
    }
}
