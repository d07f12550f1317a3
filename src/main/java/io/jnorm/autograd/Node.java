package io.jnorm.autograd;

import io.jnorm.tensor.Tensor;

/**
 * One recorded op in the define-by-run tape: its inputs and the closure computing their
 * gradients. The closure holds the tensors saved for backward; {@link #release()} drops it
 * after a backward pass so the memory can go, and a second pass then fails clearly.
 */
public final class Node {
    private final String op;
    private final Tensor[] inputs;
    private BackwardFn backward;

    Node(String op, Tensor[] inputs, BackwardFn backward) {
        this.op = op;
        this.inputs = inputs;
        this.backward = backward;
    }

    public String op() {
        return op;
    }

    public Tensor[] inputs() {
        return inputs;
    }

    Tensor[] apply(Tensor gradOutput) {
        if (backward == null) {
            throw new IllegalStateException("backward through '" + op + "' a second time: its saved tensors "
                    + "were released by the first backward(); pass retainGraph=true to the first call "
                    + "to back-propagate twice");
        }
        boolean[] needs = new boolean[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            needs[i] = inputs[i] != null && inputs[i].requiresGrad();
        }
        return backward.apply(gradOutput, needs);
    }

    void release() {
        backward = null;
    }

    @Override
    public String toString() {
        return "Node(" + op + ")";
    }
}
