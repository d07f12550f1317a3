package io.jnorm.backend;

/** Kernels of this op family (declared by the issue that builds the family). */
public interface SwitchableNormKernels {
}
