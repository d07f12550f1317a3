package io.jnorm.gpu;

import java.util.List;

/** A kernel entry point with its parameter list, as declared in the PTX {@code .entry}. */
public interface GpuKernel {
    String name();

    GpuModule module();

    List<KernelParam> params();
}
