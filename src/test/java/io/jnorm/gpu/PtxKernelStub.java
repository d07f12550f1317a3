package io.jnorm.gpu;

import java.util.List;

/**
 * A kernel as the PTX declares it, without any driver: what launch-side code (argument checks,
 * parameter layout) needs in tests.
 */
record PtxKernelStub(String name, GpuModule module, List<KernelParam> params) implements GpuKernel {

    static PtxKernelStub of(String moduleName, String entry) {
        String ptx = PtxResources.load(moduleName);
        List<String> entries = List.copyOf(PtxEntrySignatures.parse(ptx).keySet());
        GpuModule module = new GpuModule() {
            @Override
            public String name() {
                return moduleName + ".ptx";
            }

            @Override
            public List<String> entryNames() {
                return entries;
            }
        };
        return new PtxKernelStub(entry, module, PtxEntrySignatures.of(ptx, entry));
    }
}
