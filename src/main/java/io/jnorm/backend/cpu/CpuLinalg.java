package io.jnorm.backend.cpu;

import io.jnorm.backend.LinalgKernels;

/** Reference linalg kernels. */
final class CpuLinalg implements LinalgKernels {
}
