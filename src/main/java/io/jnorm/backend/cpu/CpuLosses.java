package io.jnorm.backend.cpu;

import io.jnorm.backend.LossKernels;

/** Reference loss kernels. */
final class CpuLosses implements LossKernels {
}
