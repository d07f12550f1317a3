package io.jnorm.backend.cpu;

import io.jnorm.backend.Backend;
import io.jnorm.backend.BatchChannelNormKernels;
import io.jnorm.backend.BatchRenormKernels;
import io.jnorm.backend.ConvKernels;
import io.jnorm.backend.ElementwiseKernels;
import io.jnorm.backend.LinalgKernels;
import io.jnorm.backend.LossKernels;
import io.jnorm.backend.NormKernels;
import io.jnorm.backend.PoolKernels;
import io.jnorm.backend.ReductionKernels;
import io.jnorm.backend.ShapeKernels;
import io.jnorm.backend.SwitchableNormKernels;
import io.jnorm.backend.UnifiedBatchNormKernels;
import io.jnorm.backend.WeightStandardizationKernels;
import io.jnorm.tensor.Buffer;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Tensor;

/**
 * The CPU reference backend: textbook loops with float64 accumulation, written for clarity.
 * It is the oracle every other backend is checked against.
 */
public final class CpuBackend implements Backend {
    private final ElementwiseKernels elementwise = new CpuElementwise();
    private final ReductionKernels reductions = new CpuReductions();
    private final ShapeKernels shapes = new CpuShapes();
    private final LinalgKernels linalg = new CpuLinalg();
    private final ConvKernels conv = new CpuConvs();
    private final PoolKernels pool = new CpuPools();
    private final LossKernels loss = new CpuLosses();
    private final NormKernels norms = new CpuNorm();
    private final WeightStandardizationKernels ws = new CpuWeightStandardization();
    private final BatchChannelNormKernels bcn = new CpuBatchChannelNorm();
    private final BatchRenormKernels brn = new CpuBatchRenorm();
    private final SwitchableNormKernels sn = new CpuSwitchableNorm();
    private final UnifiedBatchNormKernels ubn = new CpuUnifiedBatchNorm();

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public Buffer allocate(DType dtype, long numel) {
        if (numel > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("cpu: " + numel + " elements exceed a host array");
        }
        return new CpuBuffer(dtype, (int) numel);
    }

    @Override
    public Buffer fromHost(DType dtype, double[] values) {
        CpuBuffer b = new CpuBuffer(dtype, values.length);
        b.setAll(values);
        return b;
    }

    @Override
    public double[] toHost(Buffer buffer) {
        return ((CpuBuffer) buffer).toDoubles();
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        CpuBuffer.write(dst, CpuBuffer.read(src));
    }

    @Override
    public ElementwiseKernels elementwise() {
        return elementwise;
    }

    @Override
    public ReductionKernels reductions() {
        return reductions;
    }

    @Override
    public ShapeKernels shapes() {
        return shapes;
    }

    @Override
    public LinalgKernels linalg() {
        return linalg;
    }

    @Override
    public ConvKernels conv() {
        return conv;
    }

    @Override
    public PoolKernels pool() {
        return pool;
    }

    @Override
    public LossKernels loss() {
        return loss;
    }

    @Override
    public NormKernels norms() {
        return norms;
    }

    @Override
    public WeightStandardizationKernels weightStandardization() {
        return ws;
    }

    @Override
    public BatchChannelNormKernels batchChannelNorm() {
        return bcn;
    }

    @Override
    public BatchRenormKernels batchRenorm() {
        return brn;
    }

    @Override
    public SwitchableNormKernels switchableNorm() {
        return sn;
    }

    @Override
    public UnifiedBatchNormKernels unifiedBatchNorm() {
        return ubn;
    }
}
