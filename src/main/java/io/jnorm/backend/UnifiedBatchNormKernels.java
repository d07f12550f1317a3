package io.jnorm.backend;

import io.jnorm.tensor.Tensor;

/**
 * Kernels of Unified Batch Normalization (UBN) for NCHW input, as the co-author's layer computes
 * it (spec-brn-ubn-baselines.md §3). A UBN call chains these with the shared {@link NormKernels}:
 * <pre>
 *   meanPairwiseCosine(x, 16, c)                         gate input (no gradient)
 *   center(x, w_c, a, xc)                                xc = x + w_c·mean_hw(x)
 *   NormKernels.moments(xc, perChannel, μ, v)            batch branch only
 *   NormKernels.normalize(xc, perChannel, μ, v, eps, -, -, x̂)
 *   calibrateAndAffine(x̂, w_s, b_s, K, b, s, z, y)       y = s·(depthwise_conv(x̂; K) + b)
 * </pre>
 * and backward in reverse: {@link #calibrateAndAffineBackward}, {@code normalizeBackward},
 * {@link #centerBackward}. The depthwise convolution is a cross-correlation with odd k and
 * zero padding (k − 1)/2, so it keeps H and W.
 *
 * <p>All tensors of one call share x's dtype and device unless stated; outputs are
 * pre-allocated and fully overwritten; a null output is not computed.
 */
public interface UnifiedBatchNormKernels {

    /**
     * The condensation measure: with F_i the first {@code n = min(N, maxSamples)} samples
     * flattened over (C, H, W) and S_ij = (F_i/max(|F_i|, 1e-8))·(F_j/max(|F_j|, 1e-8)),
     * c = (Σ_{i,j} S_ij − n)/(n(n − 1)), the mean off-diagonal cosine as the code computes it
     * (it assumes S_ii = 1, so an all-zero sample biases c low); c = 1 when n = 1.
     *
     * @param out a one-element float64 tensor receiving c, whatever x's dtype
     */
    void meanPairwiseCosine(Tensor x, int maxSamples, Tensor out);

    /**
     * Centering calibration: a[n, c] = mean over H·W of x, xc = x + w_c[c]·a[n, c].
     *
     * @param centerWeight [C]; sampleMean [N, C] output; xc [N, C, H, W] output
     */
    void center(Tensor x, Tensor centerWeight, Tensor sampleMean, Tensor xc);

    /**
     * Scaling calibration and BNET affine on the normalized x̂: b = mean_hw(x̂),
     * s = sigmoid(w_s·b + b_s), z = depthwise_conv(x̂; K) + bias, y = s·z. Without a
     * convolution ({@code convWeight} null) z is x̂ itself and {@code z} may be null.
     *
     * @param scaleWeight [C]; scaleBias [C]
     * @param convWeight  [C, 1, k, k] with odd k, or null; convBias [C] (null with convWeight)
     * @param scale       [N, C] output s
     * @param z           [N, C, H, W] output, the affine result before scaling (null without conv)
     * @param y           [N, C, H, W] output
     */
    void calibrateAndAffine(Tensor xhat, Tensor scaleWeight, Tensor scaleBias, Tensor convWeight,
                            Tensor convBias, Tensor scale, Tensor z, Tensor y);

    /**
     * Backward of {@link #calibrateAndAffine} (spec §3.4): dz = dy·s; dbias = Σ_{n,h,w} dz;
     * dK[c,i,j] = Σ dz[n,c,h,w]·x̂[n,c,h+i−p,w+j−p]; ds = Σ_hw dy·z; dpre = ds·s(1 − s);
     * dw_s = Σ_n dpre·b, db_s = Σ_n dpre; dx̂ = (transposed depthwise conv of dz, or dz without
     * conv) + dpre·w_s/(H·W).
     *
     * @param z the forward's z, or null without conv (x̂ is used)
     */
    void calibrateAndAffineBackward(Tensor dy, Tensor xhat, Tensor z, Tensor scale, Tensor scaleWeight,
                                    Tensor convWeight, Tensor dxhat, Tensor dScaleWeight, Tensor dScaleBias,
                                    Tensor dConvWeight, Tensor dConvBias);

    /**
     * Backward of {@link #center}: dw_c[c] = Σ_n a[n, c]·Σ_hw dxc, dx = dxc + w_c·(Σ_hw dxc)/(H·W).
     *
     * @param dx [N, C, H, W] output or null; dCenterWeight [C] output or null
     */
    void centerBackward(Tensor dxc, Tensor sampleMean, Tensor centerWeight, Tensor dx, Tensor dCenterWeight);
}
