package io.jnorm.backend.cpu;

import io.jnorm.backend.UnifiedBatchNormKernels;

/** Reference kernels of this normalization family (float64 accumulation). */
final class CpuUnifiedBatchNorm implements UnifiedBatchNormKernels {
}
