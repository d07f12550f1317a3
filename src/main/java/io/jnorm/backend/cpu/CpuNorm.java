package io.jnorm.backend.cpu;

import io.jnorm.backend.NormKernels;

/** Reference kernels of this normalization family (float64 accumulation). */
final class CpuNorm implements NormKernels {
}
