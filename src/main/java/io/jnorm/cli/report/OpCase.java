package io.jnorm.cli.report;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Tensor;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * One op at one representative shape, as the kernel report measures it: its forward, then its
 * backward from a random upstream gradient, with the budgets the issue sets for it.
 *
 * <p>Budgets are in tensor-sized transfers T = bytes of the op's main input ({@code x}); small
 * per-channel / per-group vectors (parameters, running statistics) are counted separately and
 * subtracted before the ratio, so a budget of 2 means "read x once, write y once". {@code NaN}
 * marks a measurement reported for information only (GEMM and convolution re-read their operands
 * tile by tile by design, so "each input read once" is not their minimum).
 *
 * @param op            the op's name as users know it ("batch_norm2d")
 * @param dims          the main input's shape
 * @param fits          whether the op's per-statistic slice fits on chip (48 KiB of shared memory
 *                      per block), or null for ops without a statistic
 * @param fwdMin        the forward's minimum, in T (inputs read once, outputs written once)
 * @param bwdMin        the backward's minimum, in T
 * @param fwdBudget     the forward's budget in T, or NaN (informational)
 * @param bwdBudget     the backward's budget in T, or NaN
 * @param fwdLaunches   the forward's launch budget, or 0 for none
 * @param vectorizable  whether the layout allows 16-byte vector loads on the main loop (the
 *                      contiguous extent is a multiple of 4 floats)
 * @param setup         builds the op's inputs and function on a device
 */
record OpCase(String op, int[] dims, Boolean fits, double fwdMin, double bwdMin, double fwdBudget,
              double bwdBudget, int fwdLaunches, boolean vectorizable,
              BiFunction<Device, DType, Setup> setup) {

    /**
     * A prepared op: {@code fn} maps the main input to the output; {@code params} are the small
     * tensors read once per pass and whose gradients are written once; {@code state} the small
     * tensors read and written in place by the forward (running statistics); {@code close}
     * releases whatever the setup created (a module).
     */
    record Setup(Tensor x, Function<Tensor, Tensor> fn, List<Tensor> params, List<Tensor> state, AutoCloseable owner) {
        long paramBytes() {
            return params.stream().mapToLong(t -> t.numel() * t.dtype().bytes()).sum();
        }

        long stateBytes() {
            return state.stream().mapToLong(t -> t.numel() * t.dtype().bytes()).sum();
        }
    }

    /** "[4,2,64,64]". */
    String shape() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) {
            sb.append(i == 0 ? "" : ",").append(dims[i]);
        }
        return sb.append(']').toString();
    }

    /** Whether this op is one of the normalization layers (launch budget and fit rules apply). */
    boolean isNorm() {
        return fits != null;
    }
}
