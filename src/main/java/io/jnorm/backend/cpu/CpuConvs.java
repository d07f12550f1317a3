package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.Conv2dSpec;
import io.jnorm.backend.ConvKernels;
import io.jnorm.tensor.Tensor;

/**
 * Reference convolution: the direct seven-loop definition, float64 accumulation. The three
 * kernels walk the same (output pixel, kernel tap) pairs; they differ only in which tensor
 * they accumulate into, so one index scheme serves all three.
 */
final class CpuConvs implements ConvKernels {

    /** Sizes shared by the three kernels. */
    private record Dims(int n, int c, int h, int w, int o, int cg, int kh, int kw, int oh, int ow, int og) {
        static Dims of(int[] x, int[] wt, int[] y, int groups) {
            return new Dims(x[0], x[1], x[2], x[3], wt[0], wt[1], wt[2], wt[3], y[2], y[3], wt[0] / groups);
        }
    }

    /** One (output pixel, kernel tap) pair that reads a real (not padded) input pixel. */
    interface Tap {
        /**
         * @param yi flat index of the output pixel in y (and dy)
         * @param xi flat index of the input pixel in x (and dx)
         * @param wi flat index of the kernel tap in w (and dw)
         */
        void visit(int yi, int xi, int wi);
    }

    /**
     * The direct definition's seven loops: every output pixel in row-major order, and for each
     * its taps in (input channel of its group, kernel row, kernel column) order, skipping taps
     * that fall on padding.
     */
    private static void forEachTap(Dims d, Conv2dSpec s, Tap tap) {
        int p = 0;
        for (int n = 0; n < d.n; n++) {
            for (int o = 0; o < d.o; o++) {
                int c0 = (o / d.og) * d.cg;
                for (int oh = 0; oh < d.oh; oh++) {
                    for (int ow = 0; ow < d.ow; ow++) {
                        for (int ci = 0; ci < d.cg; ci++) {
                            for (int i = 0; i < d.kh; i++) {
                                int ih = oh * s.strideH() - s.padH() + i * s.dilationH();
                                if (ih < 0 || ih >= d.h) {
                                    continue;
                                }
                                for (int j = 0; j < d.kw; j++) {
                                    int iw = ow * s.strideW() - s.padW() + j * s.dilationW();
                                    if (iw < 0 || iw >= d.w) {
                                        continue;
                                    }
                                    tap.visit(p, ((n * d.c + c0 + ci) * d.h + ih) * d.w + iw,
                                            ((o * d.cg + ci) * d.kh + i) * d.kw + j);
                                }
                            }
                        }
                        p++;
                    }
                }
            }
        }
    }

    /**
     * The taps of a depthwise convolution of (n, c, h, w) with a [c, 1, k, k] kernel, stride 1
     * and zero padding (k − 1)/2 (odd k keeps h × w), in {@link #forEachTap}'s order.
     */
    static void forEachDepthwiseTap(int n, int c, int h, int w, int k, Tap tap) {
        int pad = (k - 1) / 2;
        forEachTap(new Dims(n, c, h, w, c, 1, k, k, h, w, 1), new Conv2dSpec(1, 1, pad, pad, 1, 1, c), tap);
    }

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, Conv2dSpec s, Tensor y) {
        Dims d = Dims.of(x.shape().dims(), w.shape().dims(), y.shape().dims(), s.groups());
        double[] xv = read(x);
        double[] wv = read(w);
        double[] out = new double[(int) y.numel()];
        if (bias != null) {
            // Each sum starts from its channel's bias, then adds the taps in order.
            double[] bv = read(bias);
            int plane = d.oh * d.ow;
            for (int p = 0; p < out.length; p++) {
                out[p] = bv[(p / plane) % d.o];
            }
        }
        forEachTap(d, s, (yi, xi, wi) -> out[yi] += xv[xi] * wv[wi]);
        write(y, out);
    }

    @Override
    public void conv2dBackwardInput(Tensor dy, Tensor w, Conv2dSpec s, Tensor dx) {
        Dims d = Dims.of(dx.shape().dims(), w.shape().dims(), dy.shape().dims(), s.groups());
        double[] g = read(dy);
        double[] wv = read(w);
        double[] out = new double[(int) dx.numel()];
        // Scatter form: each output pixel adds w * dy into every input pixel it read.
        forEachTap(d, s, (yi, xi, wi) -> out[xi] += g[yi] * wv[wi]);
        write(dx, out);
    }

    @Override
    public void conv2dBackwardWeight(Tensor dy, Tensor x, Conv2dSpec s, Tensor dw) {
        Dims d = Dims.of(x.shape().dims(), dw.shape().dims(), dy.shape().dims(), s.groups());
        double[] g = read(dy);
        double[] xv = read(x);
        double[] out = new double[(int) dw.numel()];
        forEachTap(d, s, (yi, xi, wi) -> out[wi] += g[yi] * xv[xi]);
        write(dw, out);
    }
}
