package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.UnifiedBatchNormKernels;
import io.jnorm.tensor.Tensor;

/**
 * Reference kernels of Unified BN: textbook loops in float64, rounded once on store. Layout:
 * x[n][c][h][w] at ((n·C + c)·H + h)·W + w, per-(n, c) values at n·C + c.
 */
final class CpuUnifiedBatchNorm implements UnifiedBatchNormKernels {

    /** torch.nn.functional.cosine_similarity's eps, applied to each norm separately. */
    private static final double COS_EPS = 1e-8;

    @Override
    public void meanPairwiseCosine(Tensor x, int maxSamples, Tensor out) {
        int n = Math.min(x.dim(0), maxSamples);
        if (n == 1) {
            write(out, new double[] {1.0});
            return;
        }
        int f = (int) (x.numel() / x.dim(0));
        double[] xv = read(x);
        double[] unit = new double[n * f];
        for (int i = 0; i < n; i++) {
            double sq = 0;
            for (int k = 0; k < f; k++) {
                sq += xv[i * f + k] * xv[i * f + k];
            }
            double norm = Math.max(Math.sqrt(sq), COS_EPS);
            for (int k = 0; k < f; k++) {
                unit[i * f + k] = xv[i * f + k] / norm;
            }
        }
        // The full matrix, diagonal included, minus n: what the code does, so a zero sample
        // (S_ii = 0) biases c exactly as it does there.
        double total = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double dot = 0;
                for (int k = 0; k < f; k++) {
                    dot += unit[i * f + k] * unit[j * f + k];
                }
                total += dot;
            }
        }
        write(out, new double[] {(total - n) / ((double) n * (n - 1))});
    }

    @Override
    public void center(Tensor x, Tensor centerWeight, Tensor sampleMean, Tensor xc) {
        int nc = x.dim(0) * x.dim(1);
        int c = x.dim(1);
        int p = x.dim(2) * x.dim(3);
        double[] xv = read(x);
        double[] wc = read(centerWeight);
        double[] a = new double[nc];
        double[] out = new double[xv.length];
        for (int i = 0; i < nc; i++) {
            double s = 0;
            for (int q = 0; q < p; q++) {
                s += xv[i * p + q];
            }
            a[i] = s / p;
            double shift = wc[i % c] * a[i];
            for (int q = 0; q < p; q++) {
                out[i * p + q] = xv[i * p + q] + shift;
            }
        }
        write(sampleMean, a);
        write(xc, out);
    }

    @Override
    public void calibrateAndAffine(Tensor xhat, Tensor scaleWeight, Tensor scaleBias, Tensor convWeight,
                                   Tensor convBias, Tensor scale, Tensor z, Tensor y) {
        int nc = xhat.dim(0) * xhat.dim(1);
        int c = xhat.dim(1);
        int h = xhat.dim(2);
        int w = xhat.dim(3);
        int p = h * w;
        double[] xh = read(xhat);
        double[] ws = read(scaleWeight);
        double[] bs = read(scaleBias);
        double[] zv = convWeight == null ? xh : depthwise(xh, nc, c, h, w, read(convWeight), convWeight.dim(2),
                read(convBias));
        double[] s = new double[nc];
        double[] out = new double[xh.length];
        for (int i = 0; i < nc; i++) {
            double m = 0;
            for (int q = 0; q < p; q++) {
                m += xh[i * p + q];
            }
            m /= p;
            s[i] = CpuElementwise.apply(io.jnorm.backend.UnaryOp.SIGMOID, ws[i % c] * m + bs[i % c]);
            for (int q = 0; q < p; q++) {
                out[i * p + q] = s[i] * zv[i * p + q];
            }
        }
        write(scale, s);
        if (z != null) {
            write(z, zv);
        }
        write(y, out);
    }

    /** Depthwise cross-correlation with zero padding (k - 1)/2, plus the per-channel bias. */
    private static double[] depthwise(double[] xv, int nc, int c, int h, int w, double[] kernel, int k,
                                      double[] bias) {
        double[] out = new double[xv.length];
        int plane = h * w;
        for (int p = 0; p < out.length; p++) {
            out[p] = bias[(p / plane) % c];
        }
        CpuConvs.forEachDepthwiseTap(nc / c, c, h, w, k, (yi, xi, wi) -> out[yi] += kernel[wi] * xv[xi]);
        return out;
    }

    @Override
    public void calibrateAndAffineBackward(Tensor dy, Tensor xhat, Tensor z, Tensor scale, Tensor scaleWeight,
                                           Tensor convWeight, Tensor dxhat, Tensor dScaleWeight,
                                           Tensor dScaleBias, Tensor dConvWeight, Tensor dConvBias) {
        int c = xhat.dim(1);
        int nc = xhat.dim(0) * c;
        int h = xhat.dim(2);
        int w = xhat.dim(3);
        int p = h * w;
        double[] g = read(dy);
        double[] xh = read(xhat);
        double[] zv = z == null ? xh : read(z);
        double[] s = read(scale);
        double[] ws = read(scaleWeight);
        double[] dz = new double[g.length];
        double[] dpre = new double[nc];
        double[] dws = new double[c];
        double[] dbs = new double[c];
        for (int i = 0; i < nc; i++) {
            double ds = 0;
            double mean = 0;
            for (int q = 0; q < p; q++) {
                dz[i * p + q] = g[i * p + q] * s[i];
                ds += g[i * p + q] * zv[i * p + q];
                mean += xh[i * p + q];
            }
            mean /= p;
            dpre[i] = ds * s[i] * (1 - s[i]);
            dws[i % c] += dpre[i] * mean;
            dbs[i % c] += dpre[i];
        }
        double[] dx;
        if (convWeight == null) {
            dx = dz;
        } else {
            int k = convWeight.dim(2);
            double[] kernel = read(convWeight);
            dx = new double[g.length];
            double[] dk = new double[kernel.length];
            double[] db = new double[c];
            depthwiseBackward(dz, xh, nc, c, h, w, kernel, k, dx, dk, db);
            if (dConvWeight != null) {
                write(dConvWeight, dk);
            }
            if (dConvBias != null) {
                write(dConvBias, db);
            }
        }
        if (dxhat != null) {
            for (int i = 0; i < nc; i++) {
                double through = dpre[i] * ws[i % c] / p;
                for (int q = 0; q < p; q++) {
                    dx[i * p + q] += through;
                }
            }
            write(dxhat, dx);
        }
        if (dScaleWeight != null) {
            write(dScaleWeight, dws);
        }
        if (dScaleBias != null) {
            write(dScaleBias, dbs);
        }
    }

    /**
     * Adjoint of {@link #depthwise}: every forward product K·x̂ sends dz back to both factors.
     * Looping over the forward's (output, tap) pairs makes the transposed convolution exact at
     * the padded borders without a separate index formula.
     */
    private static void depthwiseBackward(double[] dz, double[] xh, int nc, int c, int h, int w, double[] kernel,
                                          int k, double[] dx, double[] dk, double[] db) {
        int plane = h * w;
        for (int p = 0; p < dz.length; p++) {
            db[(p / plane) % c] += dz[p];
        }
        CpuConvs.forEachDepthwiseTap(nc / c, c, h, w, k, (yi, xi, wi) -> {
            dk[wi] += dz[yi] * xh[xi];
            dx[xi] += dz[yi] * kernel[wi];
        });
    }

    @Override
    public void centerBackward(Tensor dxc, Tensor sampleMean, Tensor centerWeight, Tensor dx, Tensor dCenterWeight) {
        int c = dxc.dim(1);
        int nc = dxc.dim(0) * c;
        int p = dxc.dim(2) * dxc.dim(3);
        double[] g = read(dxc);
        double[] a = read(sampleMean);
        double[] wc = read(centerWeight);
        double[] out = dx == null ? null : new double[g.length];
        double[] dwc = new double[c];
        for (int i = 0; i < nc; i++) {
            double s = 0;
            for (int q = 0; q < p; q++) {
                s += g[i * p + q];
            }
            dwc[i % c] += a[i] * s;
            if (out != null) {
                double through = wc[i % c] * s / p;
                for (int q = 0; q < p; q++) {
                    out[i * p + q] = g[i * p + q] + through;
                }
            }
        }
        if (out != null) {
            write(dx, out);
        }
        if (dCenterWeight != null) {
            write(dCenterWeight, dwc);
        }
    }
}
