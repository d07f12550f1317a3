package io.jnorm.backend.cpu;

import io.jnorm.backend.PoolKernels;

/** Reference pool kernels. */
final class CpuPools implements PoolKernels {
}
