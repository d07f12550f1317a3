package io.jnorm.backend;

import io.jnorm.tensor.Tensor;

/**
 * Softmax-family kernels on tensors of one dtype. Class indices travel as integer-valued
 * floating-point tensors of the logits' dtype (jnorm has no integer dtype); ops check them.
 */
public interface LossKernels {

    /** out = x - logsumexp(x) along {@code axis} (stabilized by the maximum). */
    void logSoftmax(Tensor x, int axis, Tensor out);

    /** dx = dy - exp(y) * sum(dy) along {@code axis}, where y is the log-softmax output. */
    void logSoftmaxBackward(Tensor y, Tensor dy, int axis, Tensor dx);

    /**
     * Mean cross entropy of logits [N, K] against class indices targets [N]: writes the per-row
     * logsumexp (saved for backward, N values instead of N*K log-probabilities) to {@code lse} [N]
     * and mean_n (lse[n] - logits[n, targets[n]]) to the 0-d {@code loss}.
     */
    void crossEntropy(Tensor logits, Tensor targets, Tensor lse, Tensor loss);

    /**
     * dLogits = (exp(logits - lse) - onehot(targets)) * dLoss / N, with dLoss a 0-d tensor and
     * lse the per-row logsumexp saved by {@link #crossEntropy}: softmax is recomputed from the logits.
     */
    void crossEntropyBackward(Tensor logits, Tensor targets, Tensor lse, Tensor dLoss, Tensor dLogits);
}
