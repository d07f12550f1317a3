package io.jnorm.backend.cpu;

import io.jnorm.backend.SwitchableNormKernels;

/** Reference kernels of this normalization family (float64 accumulation). */
final class CpuSwitchableNorm implements SwitchableNormKernels {
}
