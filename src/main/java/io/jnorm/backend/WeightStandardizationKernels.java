package io.jnorm.backend;

import io.jnorm.tensor.Tensor;

/**
 * Weight standardization of a weight viewed as [O, I]: row o (one output channel) holds its
 * fan-in of I = numel / O values. With μ_o the row mean, v_o = Σ_j (W_oj − μ_o)² / M
 * (M = I − 1 when {@code unbiased}, else I), r_o = sqrt(v_o + epsIn) and D_o = r_o + epsOut:
 * Ŵ_oj = (W_oj − μ_o) / D_o.
 *
 * <p>The backward recomputes the row statistics from W instead of reading saved ones: they are
 * O·I values of work, and recomputing keeps float32 weights exact to float64 accumulation on
 * every device. A GPU kernel maps one block to one row for both calls.
 */
public interface WeightStandardizationKernels {

    /** wHat (same shape as w) = the standardized weight. */
    void forward(Tensor w, double epsIn, double epsOut, boolean unbiased, Tensor wHat);

    /**
     * gradW = dL/dW given gradWHat = dL/dŴ:
     * (G − mean G) / D − Ŵ · Σ_k(G_k Ŵ_k) / (M · r), the second term taken as 0 when r = 0
     * (a constant row with epsIn = 0, where it has the form 0/0).
     */
    void backward(Tensor w, Tensor gradWHat, double epsIn, double epsOut, boolean unbiased, Tensor gradW);

    /**
     * y = conv(x, Ŵ) + bias for a conv weight w [O, C/groups, kH, kW] ({@code bias} may be null).
     * The default standardizes into a temporary and calls the backend's convolution; a GPU
     * backend fuses the two (the standardized weight never reaches device memory).
     */
    default void conv2dForward(Tensor x, Tensor w, Tensor bias, Conv2dSpec spec, double epsIn, double epsOut,
                               boolean unbiased, Tensor y) {
        try (Tensor wHat = Tensor.zeros(w.shape(), w.dtype(), w.device())) {
            forward(w, epsIn, epsOut, unbiased, wHat);
            x.backend().conv().conv2dForward(x, wHat, bias, spec, y);
        }
    }

    /** dx (overwritten) = the input gradient of conv(x, Ŵ). */
    default void conv2dBackwardInput(Tensor dy, Tensor w, Conv2dSpec spec, double epsIn, double epsOut, boolean unbiased,
                                     Tensor dx) {
        try (Tensor wHat = Tensor.zeros(w.shape(), w.dtype(), w.device())) {
            forward(w, epsIn, epsOut, unbiased, wHat);
            dy.backend().conv().conv2dBackwardInput(dy, wHat, spec, dx);
        }
    }

    /**
     * dw (overwritten) = the gradient of the raw weight: the convolution's weight gradient (taken
     * at Ŵ, which it does not read) through {@link #backward}.
     */
    default void conv2dBackwardWeight(Tensor dy, Tensor x, Tensor w, Conv2dSpec spec, double epsIn, double epsOut,
                                      boolean unbiased, Tensor dw) {
        try (Tensor gradWHat = Tensor.zeros(w.shape(), w.dtype(), w.device())) {
            dy.backend().conv().conv2dBackwardWeight(dy, x, spec, gradWHat);
            backward(w, gradWHat, epsIn, epsOut, unbiased, dw);
        }
    }
}
