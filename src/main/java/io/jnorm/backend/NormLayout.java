package io.jnorm.backend;

/**
 * Which elements share one mean and variance, for a contiguous tensor viewed as {@code [N, C, L]}
 * (element {@code (n, c, l)} at flat index {@code (n·C + c)·L + l}).
 *
 * <p>Two reductions cover every normalization layer on NCHW data:
 * <ul>
 *   <li>{@link Reduction#PER_CHANNEL}: one statistic per channel c, over all n and l;
 *       {@code C} statistics of {@code N·L} elements each (BatchNorm, and the eval path of
 *       InstanceNorm with running statistics).</li>
 *   <li>{@link Reduction#PER_GROUP}: one statistic per (n, g) for {@code G} groups of
 *       {@code C/G} consecutive channels; {@code N·G} statistics, index {@code n·G + g}, each over
 *       the contiguous segment of {@code (C/G)·L} elements. GroupNorm is {@code perGroup(N, C, L, G)};
 *       InstanceNorm is {@code perGroup(N, C, L, C)}; LayerNorm over trailing dims of size M with
 *       R leading rows is {@code perGroup(R, M, 1, 1)} (its elementwise affine is then "per channel").</li>
 * </ul>
 *
 * <p>Affine parameters ({@code weight}, {@code bias}) are always indexed by channel c of this
 * view ({@code C} values), whatever the reduction.
 *
 * @param reduction how statistics are shared
 * @param n         leading (batch) size N ≥ 1
 * @param c         channels C ≥ 1
 * @param l         positions per channel L ≥ 1 (H·W for images, 1 for (N, C) input)
 * @param groups    G, a divisor of C (1 for PER_CHANNEL, where it is unused)
 */
public record NormLayout(Reduction reduction, int n, int c, int l, int groups) {

    /** How statistics are shared; see {@link NormLayout}. */
    public enum Reduction { PER_CHANNEL, PER_GROUP }

    /**
     * @throws IllegalArgumentException for non-positive sizes or groups not dividing C
     *         (ops validate user input first with messages naming the layer; this guards kernels)
     */
    public NormLayout {
        if (reduction == null) {
            throw new IllegalArgumentException("NormLayout: reduction is null");
        }
        if (n <= 0 || c <= 0 || l <= 0 || groups <= 0) {
            throw new IllegalArgumentException("NormLayout: sizes must be positive, got N=" + n + " C=" + c
                    + " L=" + l + " groups=" + groups);
        }
        if (c % groups != 0) {
            throw new IllegalArgumentException("NormLayout: groups=" + groups + " does not divide C=" + c);
        }
        if (reduction == Reduction.PER_CHANNEL && groups != 1) {
            throw new IllegalArgumentException("NormLayout: PER_CHANNEL takes groups=1, got " + groups);
        }
        if ((long) n * c * l > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("NormLayout: N·C·L = " + ((long) n * c * l) + " is too large");
        }
    }

    /** One statistic per channel over (N, L): BatchNorm. */
    public static NormLayout perChannel(int n, int c, int l) {
        return new NormLayout(Reduction.PER_CHANNEL, n, c, l, 1);
    }

    /** One statistic per (n, group of C/G channels): GroupNorm, InstanceNorm (G = C), LayerNorm (L = 1, G = 1). */
    public static NormLayout perGroup(int n, int c, int l, int groups) {
        return new NormLayout(Reduction.PER_GROUP, n, c, l, groups);
    }

    /** Number of statistics: C for PER_CHANNEL, N·G for PER_GROUP. */
    public int statCount() {
        return reduction == Reduction.PER_CHANNEL ? c : n * groups;
    }

    /** Elements reduced into each statistic (the M of the spec): N·L, or (C/G)·L. */
    public long elementsPerStat() {
        return reduction == Reduction.PER_CHANNEL ? (long) n * l : (long) (c / groups) * l;
    }

    /** N·C·L. */
    public int numel() {
        return n * c * l;
    }

    /** The statistic that element (sample, channel) belongs to. */
    public int statIndex(int sample, int channel) {
        return reduction == Reduction.PER_CHANNEL ? channel : sample * groups + channel / (c / groups);
    }

    @Override
    public String toString() {
        return (reduction == Reduction.PER_CHANNEL ? "perChannel" : "perGroup") + "[N=" + n + ", C=" + c + ", L=" + l
                + (reduction == Reduction.PER_GROUP ? ", G=" + groups : "") + "]";
    }
}
