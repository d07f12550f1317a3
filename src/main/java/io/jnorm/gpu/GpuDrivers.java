package io.jnorm.gpu;

import io.jnorm.gpu.emu.EmulatorOptions;
import io.jnorm.gpu.emu.PtxEmulator;
import io.jnorm.gpu.jcuda.JCudaDriver;
import java.util.Locale;

/**
 * Picks the GpuDriver a run uses, from the system property {@code jnorm.gpu}:
 * <ul>
 *   <li>{@code emu} (the default): the PTX emulator, on any machine;</li>
 *   <li>{@code cuda}: a real GPU through JCuda (tools/run-gpu-suite sets it). A machine that
 *       cannot run CUDA fails with the probe's reason; there is no silent fallback, so a run that
 *       asked for the GPU never reports emulator results as GPU results.</li>
 * </ul>
 * JCuda classes are only reached in the {@code cuda} branch, after the probe.
 */
public final class GpuDrivers {

    /** The system property that selects the driver. */
    public static final String PROPERTY = "jnorm.gpu";

    public enum Kind { EMULATOR, CUDA }

    private GpuDrivers() {
    }

    /**
     * The kind {@code jnorm.gpu} asks for.
     *
     * @throws IllegalArgumentException for a value other than emu / cuda
     */
    public static Kind selected() {
        String value = System.getProperty(PROPERTY, "emu").trim().toLowerCase(Locale.ROOT);
        switch (value) {
            case "emu":
            case "emulator":
                return Kind.EMULATOR;
            case "cuda":
            case "gpu":
                return Kind.CUDA;
            default:
                throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + " is not a driver; use emu (the PTX emulator) or cuda (a real GPU)");
        }
    }

    /** A new driver of the selected kind; the caller closes it. */
    public static GpuDriver open() {
        return open(selected());
    }

    public static GpuDriver open(Kind kind) {
        switch (kind) {
            case EMULATOR:
                return new PtxEmulator(EmulatorOptions.defaults());
            case CUDA:
                return JCudaDriver.open();
            default:
                throw new IllegalArgumentException("unknown driver kind " + kind);
        }
    }
}
