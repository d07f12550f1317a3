package io.jnorm.ops.norm;

import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/**
 * Input checks shared by the normalization ops and modules. {@code who} is the op ("batchNorm")
 * or the layer ("BatchNorm2d(3)") that the message names; every message gives the offending
 * shape or value.
 */
public final class NormChecks {
    private NormChecks() {
    }

    /** eps must be a positive finite number (rstd = 1/sqrt(var + eps) must stay finite). */
    public static void eps(String who, double eps) {
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException(who + ": eps must be positive and finite, got " + eps);
        }
    }

    /** A momentum (weight of the new batch statistics) must be finite. */
    public static void momentum(String who, double momentum) {
        if (!Double.isFinite(momentum)) {
            throw new IllegalArgumentException(who + ": momentum must be finite, got " + momentum);
        }
    }

    /** Input of shape (N, C, *) with at least {@code minRank} dims. */
    public static void minRank(String who, Tensor x, int minRank, String layout) {
        if (x.rank() < minRank) {
            throw new IllegalArgumentException(who + ": expected input of shape " + layout + " with at least "
                    + minRank + " dims, got shape " + x.shape());
        }
    }

    /** The channel axis (dim 1) must have {@code expected} entries. */
    public static void channels(String who, Tensor x, int expected) {
        if (x.dim(1) != expected) {
            throw new IllegalArgumentException(who + ": expected " + expected + " channels (dim 1), got input shape "
                    + x.shape() + " with " + x.dim(1));
        }
    }

    /**
     * A per-channel tensor (affine or running statistic) of {@code c} elements, on x's device and
     * dtype; null passes.
     */
    public static void perChannel(String who, String arg, Tensor t, Tensor x, int c) {
        if (t == null) {
            return;
        }
        if (t.rank() != 1 || t.dim(0) != c) {
            throw new IllegalArgumentException(who + ": " + arg + " must have shape [" + c + "] (one value per channel of input "
                    + x.shape() + "), got " + t.shape());
        }
        sameKind(who, arg, t, x);
    }

    /** A tensor of exactly {@code shape} on x's device and dtype; null passes. */
    public static void exactShape(String who, String arg, Tensor t, Tensor x, Shape shape) {
        if (t == null) {
            return;
        }
        if (!t.shape().equals(shape)) {
            throw new IllegalArgumentException(who + ": " + arg + " must have shape " + shape + " for input "
                    + x.shape() + ", got " + t.shape());
        }
        sameKind(who, arg, t, x);
    }

    private static void sameKind(String who, String arg, Tensor t, Tensor x) {
        if (!t.device().equals(x.device()) || t.dtype() != x.dtype()) {
            throw new IllegalArgumentException(who + ": " + arg + " is " + t.dtype() + " on " + t.device()
                    + " but input " + x.shape() + " is " + x.dtype() + " on " + x.device());
        }
    }

    /** Both running statistics or neither. */
    public static void bothOrNeither(String who, Tensor runningMean, Tensor runningVar) {
        if ((runningMean == null) != (runningVar == null)) {
            throw new IllegalArgumentException(who + ": runningMean and runningVar must both be given or both be null, got "
                    + (runningMean == null ? "runningVar only" : "runningMean only"));
        }
    }

    /**
     * Batch statistics need two values per channel: N·L ≥ 2 (PyTorch: "Expected more than 1
     * value per channel when training").
     */
    public static void moreThanOneValuePerChannel(String who, Tensor x) {
        long m = x.numel() / x.dim(1);
        if (m <= 1) {
            throw new IllegalArgumentException(who + ": expected more than 1 value per channel when using batch "
                    + "statistics (training, or no running statistics), got input shape " + x.shape()
                    + " (N·spatial = " + m + ")");
        }
    }

    /** Instance statistics need two spatial positions: L ≥ 2. */
    public static void moreThanOneSpatialElement(String who, Tensor x) {
        long l = x.shape().numel(2, x.rank());
        if (l <= 1) {
            throw new IllegalArgumentException(who + ": expected more than 1 spatial element when using instance "
                    + "statistics (training, or no running statistics), got input shape " + x.shape()
                    + " (spatial size " + l + ")");
        }
    }

    /** Channels must split into equal groups. */
    public static void divisible(String who, int channels, int groups) {
        if (groups <= 0 || channels <= 0 || channels % groups != 0) {
            throw new IllegalArgumentException(who + ": num_channels (" + channels + ") must be divisible by num_groups ("
                    + groups + "), both positive");
        }
    }

    /** PyTorch's group_norm size check: (N·C/G)·spatial must exceed 1, whatever the mode. */
    public static void groupNormSize(String who, Tensor x, int groups) {
        long m = (long) x.dim(0) * (x.dim(1) / groups) * x.shape().numel(2, x.rank());
        if (m <= 1) {
            throw new IllegalArgumentException(who + ": expected more than 1 value per channel, got input shape "
                    + x.shape() + " with " + groups + " groups ((N·C/G)·spatial = " + m + ")");
        }
    }

    /** The trailing dims of x must equal normalizedShape. */
    public static void trailing(String who, Tensor x, int[] normalizedShape) {
        int k = normalizedShape.length;
        boolean ok = k >= 1 && x.rank() >= k;
        for (int i = 0; ok && i < k; i++) {
            ok = x.dim(x.rank() - k + i) == normalizedShape[i];
        }
        if (!ok) {
            throw new IllegalArgumentException(who + ": normalizedShape " + Arrays.toString(normalizedShape)
                    + " expects input of shape [*, " + Arrays.toString(normalizedShape).replaceAll("[\\[\\]]", "")
                    + "], got " + x.shape());
        }
    }
}
