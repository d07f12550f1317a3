package io.jnorm.cli;

import io.jnorm.tensor.Device;
import java.util.List;

/**
 * Offers the emulated GPU, which runs jnorm's CUDA kernels on the PTX emulator on any machine.
 * It is always available, and listed so that users can ask for it ({@code --device emulated});
 * {@link DeviceCatalog#best()} never picks it, because it is orders of magnitude slower than the
 * CPU reference.
 */
public final class EmulatedGpuProbe implements GpuProbe {
    /** The line {@code jnorm devices} prints for it. */
    public static final String STATUS = "emulated-gpu (PTX emulator): always available; use --device emulated";

    /** For ServiceLoader. */
    public EmulatedGpuProbe() {
    }

    @Override
    public Report probe() {
        return new Report(List.of(new DeviceInfo(Device.emulatedGpu(),
                "(PTX emulator) the CUDA kernels interpreted on the CPU with counters and a sanitizer; "
                        + "slow, never chosen implicitly")), STATUS);
    }
}
