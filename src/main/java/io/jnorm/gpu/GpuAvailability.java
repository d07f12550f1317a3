package io.jnorm.gpu;

/**
 * Whether a real CUDA GPU can be used from this JVM, and if not, why not, in words a user can act
 * on ("no NVIDIA driver: libcuda.so.1 not found").
 *
 * <p>The probe runs once, on the first call to {@link #cuda()}, and never throws: a missing
 * driver, missing JCuda natives for this platform or a machine without a device all become an
 * unavailable state with a reason. Nothing else in jnorm touches JCuda before this says
 * {@link #available()}, so loading jnorm on a machine without a GPU never fails.
 *
 * @param available     true when a device was found and the driver initialised
 * @param reason        why not, when unavailable; empty when available
 * @param device        device 0's name and compute capability, when available
 * @param driverVersion the CUDA version the installed driver supports (e.g. 13000 for 13.0), or 0
 * @param deviceCount   CUDA devices visible to this process
 */
public record GpuAvailability(boolean available, String reason, String device, int driverVersion, int deviceCount) {

    /** PTX ISA 9.0, which nvcc 13 emits and the committed PTX uses, needs a CUDA 13.0 driver. */
    public static final int MIN_DRIVER_FOR_PTX = 13000;

    public GpuAvailability {
        if (available != reason.isEmpty()) {
            // an available state has no reason, an unavailable one must have one
            throw new IllegalArgumentException("GpuAvailability: available=" + available + " with reason '" + reason + "'");
        }
    }

    public static GpuAvailability unavailable(String reason) {
        return new GpuAvailability(false, reason, "", 0, 0);
    }

    public static GpuAvailability available(String device, int driverVersion, int deviceCount) {
        return new GpuAvailability(true, "", device, driverVersion, deviceCount);
    }

    /** The CUDA state of this machine, probed on first use and cached for the JVM's lifetime. */
    public static GpuAvailability cuda() {
        return Probe.RESULT;
    }

    /**
     * @throws IllegalStateException naming what is missing, when no GPU can be used
     */
    public void requireAvailable() {
        if (!available) {
            throw new IllegalStateException("a CUDA GPU was asked for, but none can be used: " + reason);
        }
    }

    /** "13.0" for 13000. */
    public static String formatDriverVersion(int version) {
        return version / 1000 + "." + (version % 1000) / 10;
    }

    /** One line for logs and tools/run-gpu-suite. */
    public String describe() {
        if (!available) {
            return "CUDA unavailable: " + reason;
        }
        String line = String.format("CUDA device 0 of %d: %s, driver supports CUDA %s", deviceCount, device,
                formatDriverVersion(driverVersion));
        if (driverVersion < MIN_DRIVER_FOR_PTX) {
            line += " (too old for jnorm's PTX ISA 9.0, which needs CUDA "
                    + formatDriverVersion(MIN_DRIVER_FOR_PTX) + ", driver R580 or newer)";
        }
        return line;
    }

    /**
     * Holder idiom: the probe runs when {@link #cuda()} is first called, not when this record is
     * loaded, and the JVM guarantees it runs once even with concurrent callers.
     */
    private static final class Probe {
        static final GpuAvailability RESULT = run();

        private static GpuAvailability run() {
            try {
                return io.jnorm.gpu.jcuda.CudaProbe.probe();
            } catch (LinkageError e) {
                // CudaProbe itself could not be linked: the JCuda jar is not on the classpath.
                return unavailable("JCuda is not on the classpath (org.jcuda:jcuda:12.6.0): " + e);
            }
        }
    }
}
