package io.jnorm.gpu.emu;

import io.jnorm.gpu.GpuKernel;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelParam;

import java.util.List;

/** An entry of a loaded module with its decoded image. */
final class EmuKernel implements GpuKernel {
    final KernelImage image;
    private final EmuModule module;

    EmuKernel(KernelImage image, EmuModule module) {
        this.image = image;
        this.module = module;
    }

    @Override
    public String name() {
        return image.name;
    }

    @Override
    public GpuModule module() {
        return module;
    }

    @Override
    public List<KernelParam> params() {
        return image.params;
    }

    EmuModule emuModule() {
        return module;
    }

    @Override
    public String toString() {
        return "EmuKernel[" + image.name + " in " + module.name() + "]";
    }
}
