package io.jnorm.cli;

import io.jnorm.tensor.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The devices this build and machine offer: the CPU reference backend always, GPUs when a
 * {@link GpuProbe} is installed and finds one (this build registers {@link CudaGpuProbe} and
 * {@link EmulatedGpuProbe}). The best device is the first real CUDA GPU found, else the CPU: the
 * emulated GPU is listed and usable on request but never chosen implicitly, because it is slow.
 */
public final class DeviceCatalog {
    /** What {@code jnorm devices} says when no probe is on the class path. */
    public static final String NOT_PROBED = "GPU: not probed in this build (no GPU backend is installed)";

    private final List<DeviceInfo> devices = new ArrayList<>();
    private final List<String> gpuStatus = new ArrayList<>();

    /** Runs the given probes now (tests pass their own). */
    public DeviceCatalog(List<GpuProbe> probes) {
        devices.add(new DeviceInfo(Device.CPU, "CPU reference backend (float64 accumulation), "
                + Runtime.getRuntime().availableProcessors() + " hardware threads"));
        if (probes.isEmpty()) {
            gpuStatus.add(NOT_PROBED);
        }
        for (GpuProbe p : probes) {
            GpuProbe.Report r;
            try {
                r = p.probe();
            } catch (RuntimeException | LinkageError e) {
                // The contract says probes never throw; one that does must not take the CLI down.
                r = new GpuProbe.Report(List.of(), "GPU: probe " + p.getClass().getName() + " failed: " + e);
            }
            devices.addAll(r.devices());
            gpuStatus.add(r.status());
        }
    }

    /** The catalog of this build: the probes registered through ServiceLoader. */
    public static DeviceCatalog discover() {
        List<GpuProbe> probes = new ArrayList<>();
        ServiceLoader.load(GpuProbe.class).forEach(probes::add);
        return new DeviceCatalog(probes);
    }

    /** Every usable device, the CPU first. */
    public List<DeviceInfo> devices() {
        return List.copyOf(devices);
    }

    /** One line per probe (or {@link #NOT_PROBED}). */
    public List<String> gpuStatus() {
        return List.copyOf(gpuStatus);
    }

    /** The first real CUDA GPU found, else the CPU (never the emulated GPU). */
    public Device best() {
        for (DeviceInfo d : devices) {
            if (d.device().kind() == Device.Kind.CUDA) {
                return d.device();
            }
        }
        return Device.CPU;
    }

    /**
     * The requested device when it is usable here.
     *
     * @throws IllegalArgumentException listing the usable devices and the GPU status otherwise
     */
    public Device require(Device requested) {
        for (DeviceInfo d : devices) {
            if (d.device().equals(requested)) {
                return requested;
            }
        }
        List<String> usable = new ArrayList<>();
        devices.forEach(d -> usable.add(d.device().toString()));
        throw new IllegalArgumentException("device " + requested + " is not available; usable here: "
                + String.join(", ", usable) + " (" + String.join("; ", gpuStatus) + ")");
    }
}
