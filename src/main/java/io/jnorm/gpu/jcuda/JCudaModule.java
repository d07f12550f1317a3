package io.jnorm.gpu.jcuda;

import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelParam;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUmodule;

/** A PTX module loaded into the driver, with the parameter lists read from its PTX. */
final class JCudaModule implements GpuModule {
    private final String name;
    private final Map<String, List<KernelParam>> entries;
    private final String jitInfoLog;
    final CUmodule handle;
    final JCudaDriver owner;

    JCudaModule(String name, Map<String, List<KernelParam>> entries, CUmodule handle, String jitInfoLog, JCudaDriver owner) {
        this.name = name;
        this.entries = entries;
        this.handle = handle;
        this.jitInfoLog = jitInfoLog;
        this.owner = owner;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<String> entryNames() {
        return List.copyOf(entries.keySet());
    }

    List<KernelParam> params(String entry) {
        return entries.get(entry);
    }

    /** What the driver's JIT said while compiling the module (registers per kernel, warnings). */
    String jitInfoLog() {
        return jitInfoLog;
    }

    @Override
    public String toString() {
        return "JCudaModule(" + name + ", " + entries.size() + " entries)";
    }
}
