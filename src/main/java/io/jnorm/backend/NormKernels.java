package io.jnorm.backend;

import io.jnorm.tensor.Tensor;

/**
 * The shared statistics / normalize / backward kernels of every normalization layer.
 *
 * <p>BatchNorm, GroupNorm, LayerNorm and InstanceNorm are one computation with two ways of
 * sharing statistics (a {@link NormLayout}); Batch Renorm, Batch-Channel Norm, Switchable Norm
 * and Unified BN reuse these kernels for their BN / GN / IN parts. A layer call is:
 * <pre>
 *   moments(x, layout, mean, var)                          batch statistics (training)
 *   normalize(x, layout, mean, var, eps, w, b, y)          y = w_c·(x − mean_s)/sqrt(var_s + eps) + b_c
 *   updateRunningStats(mean, var, ..., runMean, runVar)    PyTorch momentum convention
 *   normalizeBackward(dy, x, layout, mean, var, eps, w, true, dx, dw, db)
 * </pre>
 * and in eval mode with running statistics: {@code normalize} and {@code normalizeBackward(..., false, ...)}
 * with the running mean / variance under a {@link NormLayout#perChannel} layout.
 *
 * <p>Conventions for every method:
 * <ul>
 *   <li>{@code x}, {@code dy}, {@code y}, {@code dx} are contiguous with {@code layout.numel()}
 *       elements, read as {@code [N, C, L]}; their actual shape does not matter.</li>
 *   <li>Statistic tensors ({@code mean}, {@code var}) hold {@code layout.statCount()} elements in
 *       statistic order ({@code c} for PER_CHANNEL, {@code n·G + g} for PER_GROUP).
 *       {@code var} is always a variance (biased batch variance, or a running variance);
 *       kernels form {@code rstd = 1/sqrt(var + eps)} themselves, so every kernel of a call
 *       sees the same rstd. {@code eps} must be &gt; 0 (ops reject other values).</li>
 *   <li>Affine tensors ({@code weight}, {@code bias}, {@code dweight}, {@code dbias}) hold
 *       {@code layout.c()} elements indexed by channel; {@code null} weight means 1, {@code null}
 *       bias means 0.</li>
 *   <li>All tensors of one call share one device and dtype. Outputs are pre-allocated by the
 *       caller and fully overwritten; a {@code null} output is not computed. Backends compute in
 *       at least the input precision (the CPU reference in float64, rounding once on store) and
 *       never validate arguments again: ops do that.</li>
 * </ul>
 */
public interface NormKernels {

    /**
     * Per-statistic mean and biased variance: for each statistic s over its set S of
     * M = {@code layout.elementsPerStat()} elements,
     * {@code mean[s] = Σ_S x / M}, {@code var[s] = Σ_S (x − mean[s])² / M}.
     * A NaN in S makes both NaN; other statistics are unaffected.
     *
     * @param x    input, {@code layout.numel()} elements
     * @param mean output, {@code statCount} elements
     * @param var  output, {@code statCount} elements (biased variance, ≥ 0)
     */
    void moments(Tensor x, NormLayout layout, Tensor mean, Tensor var);

    /**
     * Normalize and affine: for element (n, c, l) with statistic s = {@code layout.statIndex(n, c)},
     * {@code y = weight[c]·(x − mean[s])·rstd[s] + bias[c]}, {@code rstd[s] = 1/sqrt(var[s] + eps)}.
     *
     * @param mean   statistics to normalize with (batch moments or running mean)
     * @param var    variances matching {@code mean} (biased batch variance or running variance)
     * @param eps    added to the variance inside the square root, &gt; 0
     * @param weight per-channel scale or null (1)
     * @param bias   per-channel shift or null (0)
     * @param y      output, {@code layout.numel()} elements; may not alias x
     */
    void normalize(Tensor x, NormLayout layout, Tensor mean, Tensor var, double eps,
                   Tensor weight, Tensor bias, Tensor y);

    /**
     * Gradients of {@link #normalize} for an upstream {@code dy}, with
     * {@code x̂ = (x − mean[s])·rstd[s]} and {@code g = dy·weight[c]}:
     * <ul>
     *   <li>{@code statsFromInput = true} (mean, var are the {@link #moments} of x under this
     *       layout, so they depend on x): for each statistic s over its M elements
     *       {@code dx = rstd·(g − Σ_S g / M − x̂·Σ_S(g·x̂) / M)} (spec §0.1). One element per
     *       statistic gives x̂ = 0 and dx = 0 exactly; a constant set gives
     *       {@code dx = (g − mean_S g)/sqrt(eps)}.</li>
     *   <li>{@code statsFromInput = false} (constants such as running statistics):
     *       {@code dx = g·rstd}.</li>
     *   <li>in both modes {@code dweight[c] = Σ_{n,l} dy·x̂} and {@code dbias[c] = Σ_{n,l} dy}
     *       (over every element of channel c, whatever the reduction).</li>
     * </ul>
     * Batch Renorm reuses this with its batch moments: its dx is {@code r_c·dx} and its
     * dweight is {@code r_c·dweight + d_c·dbias} (r, d constants).
     *
     * @param dy      upstream gradient, {@code layout.numel()} elements
     * @param x       the forward input
     * @param mean    the statistics the forward used
     * @param var     the variances the forward used (rstd is recomputed from var and eps)
     * @param weight  the forward's per-channel scale, or null (1)
     * @param dx      output or null
     * @param dweight output ({@code layout.c()} elements) or null
     * @param dbias   output ({@code layout.c()} elements) or null
     */
    void normalizeBackward(Tensor dy, Tensor x, NormLayout layout, Tensor mean, Tensor var, double eps,
                           Tensor weight, boolean statsFromInput, Tensor dx, Tensor dweight, Tensor dbias);

    /**
     * Running-statistic update in PyTorch's momentum convention, in place:
     * <pre>
     *   runningMean[c] = (1 − factor)·runningMean[c] + factor·avg_i batchMean[i·C + c]
     *   runningVar[c]  = (1 − factor)·runningVar[c]  + factor·avg_i batchVar[i·C + c]·count/(count − 1)
     * </pre>
     * with {@code C = runningMean.numel()} and i over {@code instances} blocks of C statistics.
     * BatchNorm passes its per-channel moments with {@code instances = 1}, {@code count = N·L};
     * InstanceNorm passes its per-(n, c) moments with {@code instances = N}, {@code count = L}
     * (ATen updates a copy per instance and averages over n, which is the same thing).
     * {@code factor} is the momentum, or {@code 1/num_batches_tracked} for a cumulative average.
     * The variance stored is UNBIASED (Bessel factor), while normalization used the biased one.
     *
     * @param batchMean   {@code instances·C} means
     * @param batchVar    {@code instances·C} biased variances
     * @param instances   number of blocks of C statistics averaged together, ≥ 1
     * @param count       elements behind each batch statistic, ≥ 2 (callers reject 1, as PyTorch does)
     * @param factor      weight of the new statistics, in [0, 1]
     * @param runningMean C values, read and overwritten
     * @param runningVar  C values, read and overwritten
     */
    void updateRunningStats(Tensor batchMean, Tensor batchVar, int instances, long count, double factor,
                            Tensor runningMean, Tensor runningVar);

    /**
     * The training forward in one call: {@link #moments} of x into {@code mean} / {@code var},
     * {@link #normalize} with them into {@code y}, and, when {@code runningMean} is not null,
     * {@link #updateRunningStats}{@code (mean, var, instances, count, factor, runningMean, runningVar)}.
     * Same results as those three calls (what the CPU reference does); a backend that can fuse
     * them does (the cuda backend reads x once and launches at most two kernels).
     *
     * @param mean        output, {@code statCount} batch means
     * @param var         output, {@code statCount} biased batch variances
     * @param runningMean C running means updated in place, or null for no update (then runningVar is null too)
     * @param runningVar  C running variances, or null
     * @param instances   as in {@link #updateRunningStats} (ignored without running statistics)
     * @param count       as in {@link #updateRunningStats}
     * @param factor      as in {@link #updateRunningStats}
     */
    default void normalizeWithBatchStats(Tensor x, NormLayout layout, double eps, Tensor weight, Tensor bias,
                                         Tensor y, Tensor mean, Tensor var, Tensor runningMean, Tensor runningVar,
                                         int instances, long count, double factor) {
        normalizeWithBatchStats(x, layout, eps, weight, bias, y, mean, var, runningMean, runningVar, instances,
                count, factor, null);
    }

    /**
     * {@link #normalizeWithBatchStats(Tensor, NormLayout, double, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor,
     * Tensor, int, long, double)} that also adds 1 to BatchNorm's step counter in the same launches
     * (PyTorch's {@code num_batches_tracked += 1}), so counting a step costs no kernel of its own.
     * The caller derives a cumulative-average {@code factor} from the counter's value before this
     * call ({@code 1/(counter + 1)}).
     *
     * @param counter a 0-d float64 tensor on x's device incremented in place, or null; only with
     *                running statistics and a per-channel layout (BatchNorm)
     */
    void normalizeWithBatchStats(Tensor x, NormLayout layout, double eps, Tensor weight, Tensor bias,
                                 Tensor y, Tensor mean, Tensor var, Tensor runningMean, Tensor runningVar,
                                 int instances, long count, double factor, Tensor counter);
}
