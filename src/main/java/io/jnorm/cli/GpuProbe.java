package io.jnorm.cli;

import java.util.List;

/**
 * Finds the GPUs a build can use. Implementations are found with {@link java.util.ServiceLoader}
 * (a {@code META-INF/services/io.jnorm.cli.GpuProbe} entry), so the command line needs no
 * knowledge of the cuda backend and a build without one simply has no probe.
 *
 * <p>A probe must not throw and must not fail on a machine without a GPU or driver: it reports
 * no devices and says why in {@link Report#status()}.
 */
public interface GpuProbe {

    /**
     * What one probe found.
     *
     * @param devices usable GPUs, best first
     * @param status  one line for people, e.g. "CUDA driver 13.0, 1 device" or
     *                "CUDA: libcuda.so.1 not found"
     */
    record Report(List<DeviceInfo> devices, String status) {
        public Report {
            devices = List.copyOf(devices);
        }
    }

    /** Looks for devices; never throws. */
    Report probe();
}
