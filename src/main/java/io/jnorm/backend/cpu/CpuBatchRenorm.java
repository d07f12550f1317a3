package io.jnorm.backend.cpu;

import io.jnorm.backend.BatchRenormKernels;

/** Reference kernels of this normalization family (float64 accumulation). */
final class CpuBatchRenorm implements BatchRenormKernels {
}
