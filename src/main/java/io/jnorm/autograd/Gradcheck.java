package io.jnorm.autograd;

import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Compares analytic gradients with central finite differences in float64.
 *
 * <p>The function's output is reduced to a scalar with a fixed random weighting
 * L = sum(f(x) * v), so every output element's gradient is exercised (a plain sum would hide
 * errors that cancel). For each input that requires grad, dL/dx from backward() is compared with
 * (L(x + eps e_j) - L(x - eps e_j)) / (2 eps) element by element:
 * |analytic - numeric| <= atol + rtol * |numeric|.
 */
public final class Gradcheck {

    /** The outcome for all inputs; {@link #message()} names the worst offender. */
    public record Result(boolean passed, double maxAbsError, String message) {
    }

    private Gradcheck() {
    }

    /** Checks with eps 1e-6, atol 1e-5, rtol 1e-3 (float64 inputs). */
    public static Result check(Function<Tensor[], Tensor> fn, Tensor... inputs) {
        return check(fn, inputs, 1e-6, 1e-5, 1e-3);
    }

    /**
     * @param fn     the function under test; it must not change its inputs
     * @param inputs float64 tensors; those with requiresGrad are checked
     * @param eps    the finite-difference step, finite and &gt; 0
     * @param atol   absolute tolerance, finite and ≥ 0
     * @param rtol   relative tolerance, finite and ≥ 0
     * @throws IllegalArgumentException when an input that requires grad is not float64, or none
     *         does, or a step or tolerance is out of range (NaN would pass every comparison)
     */
    public static Result check(Function<Tensor[], Tensor> fn, Tensor[] inputs, double eps, double atol, double rtol) {
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("gradcheck: eps must be finite and > 0, got " + eps);
        }
        if (!(atol >= 0) || !(rtol >= 0) || Double.isInfinite(atol) || Double.isInfinite(rtol)) {
            throw new IllegalArgumentException("gradcheck: atol and rtol must be finite and >= 0, got atol " + atol
                    + ", rtol " + rtol);
        }
        boolean any = false;
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i].requiresGrad()) {
                any = true;
                if (inputs[i].dtype() != DType.F64) {
                    throw new IllegalArgumentException("gradcheck: input " + i + " " + inputs[i].shape()
                            + " is " + inputs[i].dtype() + "; finite differences need float64");
                }
            }
        }
        if (!any) {
            throw new IllegalArgumentException("gradcheck: no input requires grad");
        }
        try (Scope scope = Scope.open()) {
            for (Tensor in : inputs) {
                in.zeroGrad();
            }
            Tensor out = fn.apply(inputs);
            double[] weights = weights(out.shape());
            Tensor v = Tensor.fromDoubles(weights, out.shape(), out.dtype(), out.device());
            Tensor loss = Ops.sum(Ops.mul(out, v));
            loss.backward();

            double worst = 0;
            double worstFailure = -1;
            String worstMessage = "all gradients match";
            boolean passed = true;
            for (int i = 0; i < inputs.length; i++) {
                Tensor in = inputs[i];
                if (!in.requiresGrad()) {
                    continue;
                }
                double[] analytic = in.grad() == null ? new double[(int) in.numel()] : in.grad().toDoubleArray();
                double[] numeric = numericGradient(fn, inputs, i, weights, eps);
                for (int j = 0; j < numeric.length; j++) {
                    double err = Math.abs(analytic[j] - numeric[j]);
                    if (Double.isNaN(err)) {
                        err = Double.POSITIVE_INFINITY;
                    }
                    worst = Math.max(worst, err);
                    if (err > atol + rtol * Math.abs(numeric[j]) && err > worstFailure) {
                        passed = false;
                        worstFailure = err;
                        worstMessage = String.format(
                                "gradcheck failed for input %d %s at index %s: analytic %.10g, numeric %.10g "
                                        + "(|diff| %.3g > atol %.1g + rtol %.1g * |numeric|)",
                                i, in.shape(), Arrays.toString(unravel(j, in.shape())), analytic[j], numeric[j],
                                err, atol, rtol);
                    }
                }
                in.zeroGrad();
            }
            return new Result(passed, worst, worstMessage);
        }
    }

    /** Like {@link #check} but throws an AssertionError with the failure message. */
    public static void assertPasses(Function<Tensor[], Tensor> fn, Tensor... inputs) {
        Result r = check(fn, inputs);
        if (!r.passed()) {
            throw new AssertionError(r.message());
        }
    }

    private static double[] numericGradient(Function<Tensor[], Tensor> fn, Tensor[] inputs, int which,
                                            double[] weights, double eps) {
        Tensor original = inputs[which];
        double[] base = original.toDoubleArray();
        double[] grad = new double[base.length];
        try (GradMode.Guard g = GradMode.noGrad()) {
            for (int j = 0; j < base.length; j++) {
                grad[j] = (evaluate(fn, inputs, which, base, j, eps, weights)
                        - evaluate(fn, inputs, which, base, j, -eps, weights)) / (2 * eps);
            }
        }
        return grad;
    }

    private static double evaluate(Function<Tensor[], Tensor> fn, Tensor[] inputs, int which, double[] base,
                                   int j, double delta, double[] weights) {
        try (Scope scope = Scope.open()) {
            double[] p = base.clone();
            p[j] += delta;
            Tensor[] args = inputs.clone();
            args[which] = Tensor.fromDoubles(p, inputs[which].shape(), DType.F64, inputs[which].device());
            double[] out = fn.apply(args).toDoubleArray();
            double s = 0;
            for (int k = 0; k < out.length; k++) {
                s += out[k] * weights[k];
            }
            return s;
        }
    }

    /** Fixed pseudo-random weights in [0.5, 1.5) with random signs. */
    private static double[] weights(Shape shape) {
        Rng rng = new Rng(0x5eed);
        double[] w = new double[(int) shape.numel()];
        for (int i = 0; i < w.length; i++) {
            w[i] = (0.5 + rng.nextUniform()) * (rng.nextUniform() < 0.5 ? -1 : 1);
        }
        return w;
    }

    static int[] unravel(long flat, Shape shape) {
        int[] idx = new int[shape.rank()];
        for (int a = shape.rank() - 1; a >= 0; a--) {
            idx[a] = (int) (flat % shape.dim(a));
            flat /= shape.dim(a);
        }
        return idx;
    }
}
