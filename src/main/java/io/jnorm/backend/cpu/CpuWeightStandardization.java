package io.jnorm.backend.cpu;

import io.jnorm.backend.WeightStandardizationKernels;

/** Reference kernels of this normalization family (float64 accumulation). */
final class CpuWeightStandardization implements WeightStandardizationKernels {
}
