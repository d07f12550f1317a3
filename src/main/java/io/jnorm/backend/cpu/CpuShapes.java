package io.jnorm.backend.cpu;

import io.jnorm.backend.ShapeKernels;

/** Reference shape kernels. */
final class CpuShapes implements ShapeKernels {
}
