package io.jnorm.gpu.jcuda;

import io.jnorm.gpu.GpuKernel;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelParam;
import java.util.List;
import jcuda.driver.CUfunction;

/** A kernel of a loaded module: the driver's function handle and the PTX parameter list. */
final class JCudaKernel implements GpuKernel {
    private final String name;
    private final JCudaModule module;
    private final List<KernelParam> params;
    final CUfunction function;

    JCudaKernel(String name, JCudaModule module, List<KernelParam> params, CUfunction function) {
        this.name = name;
        this.module = module;
        this.params = params;
        this.function = function;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public GpuModule module() {
        return module;
    }

    JCudaModule jcudaModule() {
        return module;
    }

    @Override
    public List<KernelParam> params() {
        return params;
    }

    @Override
    public String toString() {
        return name + " (" + module.name() + ")";
    }
}
