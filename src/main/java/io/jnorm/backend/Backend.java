package io.jnorm.backend;

import io.jnorm.tensor.Buffer;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Tensor;

/**
 * The kernels of one device, grouped by op family. Ops validate their inputs, allocate outputs
 * on the input's device and call these; a backend never validates user input again and never
 * records autograd nodes. Adding a device means implementing this interface, nothing in ops.
 *
 * <p>Kernels take their output tensors pre-allocated (same device, dtype as stated per method).
 */
public interface Backend {

    Device device();

    /** A zero-filled buffer. */
    Buffer allocate(DType dtype, long numel);

    /** A buffer holding {@code values} rounded to {@code dtype}. */
    Buffer fromHost(DType dtype, double[] values);

    /** The buffer's values as doubles. */
    double[] toHost(Buffer buffer);

    /** Copies {@code src} into {@code dst} (same numel), converting dtype if they differ. */
    void copy(Tensor src, Tensor dst);

    ElementwiseKernels elementwise();

    ReductionKernels reductions();

    ShapeKernels shapes();

    LinalgKernels linalg();

    ConvKernels conv();

    PoolKernels pool();

    LossKernels loss();

    /** Shared statistics / normalize / backward kernels of BN, GN, LN, IN. */
    NormKernels norms();

    WeightStandardizationKernels weightStandardization();

    BatchChannelNormKernels batchChannelNorm();

    BatchRenormKernels batchRenorm();

    SwitchableNormKernels switchableNorm();

    UnifiedBatchNormKernels unifiedBatchNorm();
}
