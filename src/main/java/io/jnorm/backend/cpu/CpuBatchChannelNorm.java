package io.jnorm.backend.cpu;

import io.jnorm.backend.BatchChannelNormKernels;

/** Reference kernels of this normalization family (float64 accumulation). */
final class CpuBatchChannelNorm implements BatchChannelNormKernels {
}
