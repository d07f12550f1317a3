package io.jnorm.optim;

import io.jnorm.ops.Ops;
import io.jnorm.tensor.Tensor;
import java.util.List;

/**
 * Adam with decoupled weight decay exactly as {@code torch.optim.AdamW} (1.13, amsgrad off),
 * for each parameter p with gradient g, t counting this parameter's updates from 1:
 *
 * <pre>
 *   p  = p * (1 - lr * weightDecay)                  (decoupled: not added to g)
 *   m  = beta1 * m + (1 - beta1) * g                 (m, v start at zero)
 *   v  = beta2 * v + (1 - beta2) * g * g
 *   p  = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 *
 * State per parameter: {@code step} (a counter), {@code exp_avg} (m), {@code exp_avg_sq} (v),
 * PyTorch's names.
 */
public final class AdamW extends Optimizer {
    private static final String STEP = "step";
    private static final String M = "exp_avg";
    private static final String V = "exp_avg_sq";
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;

    /** PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2. */
    public AdamW(List<Tensor> params) {
        this(params, 1e-3, 0.9, 0.999, 1e-8, 1e-2);
    }

    /** PyTorch's defaults except the learning rate. */
    public AdamW(List<Tensor> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, 1e-2);
    }

    /**
     * @throws IllegalArgumentException for a negative or non-finite lr, eps or weight decay, or
     *         a beta outside [0, 1)
     */
    public AdamW(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        super("AdamW", params, lr);
        checkBeta(0, beta1);
        checkBeta(1, beta2);
        if (!(eps >= 0.0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("AdamW: invalid epsilon value: " + eps + " (must be finite and >= 0)");
        }
        if (!(weightDecay >= 0.0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("AdamW: invalid weight_decay value: " + weightDecay
                    + " (must be finite and >= 0)");
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    private static void checkBeta(int index, double beta) {
        if (!(beta >= 0.0 && beta < 1.0)) {
            throw new IllegalArgumentException("AdamW: invalid beta parameter at index " + index + ": " + beta
                    + " (must be in [0, 1))");
        }
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    public double weightDecay() {
        return weightDecay;
    }

    @Override
    protected void update(int index, Tensor p, Tensor grad) {
        if (state(index, STEP) == null) {
            putState(index, STEP, counter(0, p));
            putState(index, M, Tensor.zeros(p.shape(), p.dtype(), p.device()));
            putState(index, V, Tensor.zeros(p.shape(), p.dtype(), p.device()));
        }
        Tensor stepT = state(index, STEP);
        double t = stepT.item() + 1;
        assign(stepT, counter(t, p));
        Tensor m = state(index, M);
        Tensor v = state(index, V);

        Tensor decayed = weightDecay != 0 ? p.mul(1.0 - lr() * weightDecay) : p;
        assign(m, Ops.add(m.mul(beta1), grad.mul(1.0 - beta1)));
        assign(v, Ops.add(v.mul(beta2), Ops.mul(grad, grad).mul(1.0 - beta2)));

        double biasCorrection1 = 1.0 - Math.pow(beta1, t);
        double biasCorrection2 = 1.0 - Math.pow(beta2, t);
        double stepSize = lr() / biasCorrection1;
        Tensor denom = Ops.div(Ops.sqrt(v), Ops.scalarLike(v, Math.sqrt(biasCorrection2))).add(eps);
        assign(p, Ops.sub(decayed, Ops.div(m, denom).mul(stepSize)));
    }

    @Override
    protected List<String> stateNames() {
        return List.of(STEP, M, V);
    }

    @Override
    protected List<String> integerStateNames() {
        return List.of(STEP);
    }

    @Override
    public String toString() {
        return "AdamW(lr=" + lr() + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps + ", weight_decay="
                + weightDecay + ", params=" + params().size() + ")";
    }
}
