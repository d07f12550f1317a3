package io.jnorm.ops;

import io.jnorm.autograd.Autograd;
import io.jnorm.autograd.GradMode;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/** log_softmax and cross entropy over class logits. */
final class LossOps {
    private LossOps() {
    }

    static Tensor logSoftmax(Tensor x, int axis) {
        if (x.rank() == 0) {
            throw new IllegalArgumentException("log_softmax: input must have rank >= 1, got a scalar");
        }
        int a = Shape.normalizeAxis(axis, x.rank(), "log_softmax");
        Tensor y = Tensor.zeros(x.shape(), x.dtype(), x.device());
        x.backend().loss().logSoftmax(x, a, y);
        return Autograd.record("log_softmax", y, (gy, needs) -> {
            Tensor gx = Tensor.zeros(x.shape(), x.dtype(), x.device());
            x.backend().loss().logSoftmaxBackward(y, gy, a, gx);
            return new Tensor[] {gx};
        }, x);
    }

    static Tensor crossEntropy(Tensor logits, int[] targets) {
        if (targets == null) {
            throw new IllegalArgumentException("cross_entropy: targets must not be null");
        }
        double[] t = new double[targets.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = targets[i];
        }
        Checks.rank("cross_entropy", "logits", logits, 2);
        if (t.length != logits.dim(0)) {
            throw new IllegalArgumentException("cross_entropy: " + t.length + " targets for logits "
                    + logits.shape() + " (batch " + logits.dim(0) + ")");
        }
        Tensor tt = Tensor.fromDoubles(t, Shape.of(t.length), logits.dtype(), logits.device());
        try {
            return crossEntropy(logits, tt);
        } finally {
            tt.close();
        }
    }

    static Tensor crossEntropy(Tensor logits, Tensor targets) {
        String op = "cross_entropy";
        Checks.rank(op, "logits", logits, 2);
        Checks.rank(op, "targets", targets, 1);
        if (!targets.device().equals(logits.device())) {
            throw new IllegalArgumentException(op + ": targets " + targets.shape() + " on " + targets.device()
                    + " but logits " + logits.shape() + " on " + logits.device());
        }
        int n = logits.dim(0);
        int k = logits.dim(1);
        if (targets.dim(0) != n) {
            throw new IllegalArgumentException(op + ": targets " + targets.shape()
                    + " do not match the batch of logits " + logits.shape());
        }
        double[] tv = targets.toDoubleArray();
        for (int i = 0; i < n; i++) {
            if (tv[i] != Math.rint(tv[i])) {
                throw new IllegalArgumentException(op + ": target at index " + i + " is " + tv[i]
                        + ", not an integer class index");
            }
            if (tv[i] < 0 || tv[i] >= k) {
                throw new IllegalArgumentException(op + ": target at index " + i + " has value " + (long) tv[i]
                        + ", outside the classes [0, " + k + ") of logits " + logits.shape());
            }
        }
        // The kernel reads targets in the logits' dtype; class indices below 2^24 are exact in float32.
        Tensor t;
        try (GradMode.Guard g = GradMode.noGrad()) {
            t = targets.dtype() == logits.dtype() ? targets.detach() : TransferOps.cast(targets, logits.dtype());
        }
        // Only the per-row logsumexp is saved: the backward recomputes softmax from the logits,
        // which autograd keeps anyway, so the forward reads the logits once and writes N values.
        Tensor lse = Tensor.zeros(Shape.of(n), logits.dtype(), logits.device());
        Tensor loss = Tensor.zeros(Shape.scalar(), logits.dtype(), logits.device());
        logits.backend().loss().crossEntropy(logits, t, lse, loss);
        Autograd.record(op, loss, (gy, needs) -> {
            Tensor gx = Tensor.zeros(logits.shape(), logits.dtype(), logits.device());
            logits.backend().loss().crossEntropyBackward(logits, t, lse, gy, gx);
            return new Tensor[] {gx};
        }, logits);
        if (loss.gradFn() == null) {
            // Nothing will run backward, so the saved tensors can go now (device memory on a GPU).
            lse.close();
            t.close();
        }
        return loss;
    }
}
