package io.jnorm.optim;

import io.jnorm.ops.Ops;
import io.jnorm.tensor.Tensor;
import java.util.List;

/**
 * Stochastic gradient descent exactly as {@code torch.optim.SGD} (1.13), for each parameter p
 * with gradient g:
 *
 * <pre>
 *   g = g + weightDecay * p                              (if weightDecay != 0)
 *   if momentum != 0:
 *       buf = g                                          (first step: a copy of g, no dampening)
 *       buf = momentum * buf + (1 - dampening) * g       (later steps)
 *       g = nesterov ? g + momentum * buf : buf
 *   p = p - lr * g
 * </pre>
 *
 * State: {@code momentum_buffer} per parameter (only when momentum != 0).
 */
public final class SGD extends Optimizer {
    private static final String BUF = "momentum_buffer";
    private final double momentum;
    private final double dampening;
    private final double weightDecay;
    private final boolean nesterov;

    /** Plain SGD: no momentum, no weight decay. */
    public SGD(List<Tensor> params, double lr) {
        this(params, lr, 0.0, 0.0, 0.0, false);
    }

    /**
     * @throws IllegalArgumentException for a negative or non-finite lr, momentum, dampening or
     *         weight decay, or nesterov without momentum or with dampening (as PyTorch)
     */
    public SGD(List<Tensor> params, double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
        super("SGD", params, lr);
        check("momentum", momentum);
        check("dampening", dampening);
        check("weight_decay", weightDecay);
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got momentum "
                    + momentum + ", dampening " + dampening);
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
    }

    private static void check(String what, double v) {
        if (!(v >= 0.0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("SGD: invalid " + what + " value: " + v + " (must be finite and >= 0)");
        }
    }

    public double momentum() {
        return momentum;
    }

    public double dampening() {
        return dampening;
    }

    public double weightDecay() {
        return weightDecay;
    }

    public boolean nesterov() {
        return nesterov;
    }

    @Override
    protected void update(int index, Tensor p, Tensor grad) {
        Tensor d = grad;
        if (weightDecay != 0) {
            d = Ops.add(d, p.mul(weightDecay));
        }
        if (momentum != 0) {
            Tensor buf = state(index, BUF);
            if (buf == null) {
                buf = putState(index, BUF, Ops.copy(d));
            } else {
                assign(buf, Ops.add(buf.mul(momentum), d.mul(1.0 - dampening)));
            }
            d = nesterov ? Ops.add(d, buf.mul(momentum)) : buf;
        }
        assign(p, Ops.sub(p, d.mul(lr())));
    }

    @Override
    protected List<String> stateNames() {
        return momentum != 0 ? List.of(BUF) : List.of();
    }

    @Override
    public String toString() {
        return "SGD(lr=" + lr() + ", momentum=" + momentum + ", dampening=" + dampening + ", weight_decay="
                + weightDecay + ", nesterov=" + nesterov + ", params=" + params().size() + ")";
    }
}
