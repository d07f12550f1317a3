package io.jnorm.nn;

import io.jnorm.autograd.GradMode;
import io.jnorm.autograd.Gradcheck;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradient check of a module's forward with respect to its input and its own parameters.
 *
 * <p>{@link Gradcheck} perturbs inputs by handing the function fresh tensors; a module reads its
 * parameters from itself, so the function below copies each (perturbed) input into the matching
 * parameter before calling forward. For the analytic pass the inputs are the parameters
 * themselves and gradients land on them directly; the original values are restored afterwards.
 */
public final class ModuleGradcheck {
    private ModuleGradcheck() {
    }

    /** Checks forward(x) with respect to x and every float64 parameter of {@code m}. */
    public static Gradcheck.Result check(Module m, Tensor x) {
        List<Tensor> params = m.parameters();
        List<double[]> saved = new ArrayList<>();
        Tensor[] inputs = new Tensor[params.size() + 1];
        inputs[0] = x;
        for (int i = 0; i < params.size(); i++) {
            inputs[i + 1] = params.get(i);
            saved.add(params.get(i).toDoubleArray());
        }
        try {
            return Gradcheck.check(in -> {
                try (GradMode.Guard g = GradMode.noGrad()) {
                    for (int i = 0; i < params.size(); i++) {
                        Tensor p = params.get(i);
                        Tensor src = in[i + 1] == p
                                ? Tensor.fromDoubles(saved.get(i), p.shape(), p.dtype(), p.device())
                                : in[i + 1];
                        p.backend().copy(src, p);
                    }
                }
                return m.forward(in[0]);
            }, inputs);
        } finally {
            try (GradMode.Guard g = GradMode.noGrad()) {
                for (int i = 0; i < params.size(); i++) {
                    Tensor p = params.get(i);
                    try (Tensor orig = Tensor.fromDoubles(saved.get(i), p.shape(), p.dtype(), p.device())) {
                        p.backend().copy(orig, p);
                    }
                }
            }
        }
    }
}
