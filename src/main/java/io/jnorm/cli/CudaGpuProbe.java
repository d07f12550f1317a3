package io.jnorm.cli;

import io.jnorm.gpu.GpuAvailability;
import io.jnorm.tensor.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Offers the real CUDA GPUs this JVM can use, from {@link GpuAvailability#cuda()} (which never
 * throws: no driver, no JCuda natives or no device become a reason). A device whose driver is
 * too old for jnorm's PTX is not offered; the status line says why.
 */
public final class CudaGpuProbe implements GpuProbe {
    private final Supplier<GpuAvailability> availability;

    /** For ServiceLoader: probes this machine. */
    public CudaGpuProbe() {
        this(GpuAvailability::cuda);
    }

    /** Over a given probe result (tests). */
    public CudaGpuProbe(Supplier<GpuAvailability> availability) {
        this.availability = availability;
    }

    @Override
    public Report probe() {
        GpuAvailability a = availability.get();
        if (!a.available()) {
            return new Report(List.of(), "cuda: no usable GPU: " + a.reason());
        }
        if (a.driverVersion() < GpuAvailability.MIN_DRIVER_FOR_PTX) {
            return new Report(List.of(), "cuda: not used: " + a.describe());
        }
        List<DeviceInfo> devices = new ArrayList<>();
        String driver = "CUDA driver " + GpuAvailability.formatDriverVersion(a.driverVersion());
        for (int i = 0; i < a.deviceCount(); i++) {
            devices.add(new DeviceInfo(Device.cuda(i), (i == 0 ? a.device() : "CUDA device " + i) + ", " + driver));
        }
        return new Report(devices, "cuda: OK, " + a.describe());
    }
}
