package io.jnorm.backend.cpu;

import io.jnorm.backend.ConvKernels;

/** Reference conv kernels. */
final class CpuConvs implements ConvKernels {
}
