package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.BatchRenormKernels;
import io.jnorm.tensor.Tensor;

/** Reference per-channel Batch Renorm kernels, in float64. */
final class CpuBatchRenorm implements BatchRenormKernels {

    @Override
    public void correction(Tensor batchMean, Tensor batchVar, Tensor movingMean, Tensor movingStd, double eps,
                           double rmax, double dmax, Tensor r, Tensor d) {
        double[] mb = read(batchMean);
        double[] vb = read(batchVar);
        double[] mu = read(movingMean);
        double[] sd = read(movingStd);
        double[] rv = new double[mb.length];
        double[] dv = new double[mb.length];
        double floor = Math.sqrt(eps);
        for (int c = 0; c < mb.length; c++) {
            double sigma = Math.max(sd[c], floor);
            rv[c] = clip(Math.sqrt(vb[c] + eps) / sigma, 1.0 / rmax, rmax);
            dv[c] = clip((mb[c] - mu[c]) / sigma, -dmax, dmax);
        }
        write(r, rv);
        write(d, dv);
    }

    /** min(max(v, lo), hi); NaN stays NaN so a broken channel shows up instead of being clipped away. */
    private static double clip(double v, double lo, double hi) {
        return Double.isNaN(v) ? v : Math.min(Math.max(v, lo), hi);
    }

    @Override
    public void foldAffine(Tensor gamma, Tensor beta, Tensor r, Tensor d, Tensor scale, Tensor shift) {
        double[] rv = read(r);
        double[] dv = read(d);
        double[] g = gamma == null ? null : read(gamma);
        double[] b = beta == null ? null : read(beta);
        double[] sc = new double[rv.length];
        double[] sh = new double[rv.length];
        for (int c = 0; c < rv.length; c++) {
            double gc = g == null ? 1.0 : g[c];
            sc[c] = gc * rv[c];
            sh[c] = gc * dv[c] + (b == null ? 0.0 : b[c]);
        }
        write(scale, sc);
        write(shift, sh);
    }

    @Override
    public void gammaGrad(Tensor sumDyXhat, Tensor sumDy, Tensor r, Tensor d, Tensor dgamma) {
        double[] sx = read(sumDyXhat);
        double[] s = read(sumDy);
        double[] rv = read(r);
        double[] dv = read(d);
        double[] out = new double[sx.length];
        for (int c = 0; c < out.length; c++) {
            out[c] = rv[c] * sx[c] + dv[c] * s[c];
        }
        write(dgamma, out);
    }

    @Override
    public void updateMoving(Tensor batchMean, Tensor batchVar, double eps, double momentum, Tensor movingMean,
                             Tensor movingStd) {
        double[] mb = read(batchMean);
        double[] vb = read(batchVar);
        double[] mu = read(movingMean);
        double[] sd = read(movingStd);
        for (int c = 0; c < mb.length; c++) {
            mu[c] = (1 - momentum) * mu[c] + momentum * mb[c];
            sd[c] = (1 - momentum) * sd[c] + momentum * Math.sqrt(vb[c] + eps);
        }
        write(movingMean, mu);
        write(movingStd, sd);
    }

    @Override
    public void movingVariance(Tensor movingStd, double eps, Tensor var) {
        double[] sd = read(movingStd);
        double[] out = new double[sd.length];
        for (int c = 0; c < sd.length; c++) {
            out[c] = Math.max(sd[c] * sd[c] - eps, 0.0);
        }
        write(var, out);
    }
}
