package io.jnorm.gpu.emu;

import io.jnorm.gpu.GpuModule;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A loaded module: every entry decoded at load time, so a bad instruction fails the load. */
final class EmuModule implements GpuModule {
    private final String name;
    private final Map<String, EmuKernel> kernels = new LinkedHashMap<>();
    final PtxEmulator owner;

    EmuModule(String name, PtxEmulator owner) {
        this.name = name;
        this.owner = owner;
    }

    void add(KernelImage image) {
        kernels.put(image.name, new EmuKernel(image, this));
    }

    EmuKernel kernel(String entry) {
        return kernels.get(entry);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<String> entryNames() {
        return Collections.unmodifiableList(new ArrayList<>(kernels.keySet()));
    }

    @Override
    public String toString() {
        return "EmuModule[" + name + ", entries " + kernels.keySet() + "]";
    }
}
