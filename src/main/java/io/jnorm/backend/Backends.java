package io.jnorm.backend;

import io.jnorm.backend.cpu.CpuBackend;
import io.jnorm.tensor.Device;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Finds the backend of a device. The CPU reference is always present; GPU backends register a
 * factory, called lazily the first time a tensor asks for that device, so nothing GPU-related
 * loads on a machine that never uses one.
 */
public final class Backends {
    private static final Map<Device, Backend> BACKENDS = new ConcurrentHashMap<>();
    private static final Map<Device.Kind, Function<Device, Backend>> FACTORIES = new ConcurrentHashMap<>();

    static {
        BACKENDS.put(Device.CPU, new CpuBackend());
        // Lambdas, not method references: the cuda classes load only when a GPU device is used.
        FACTORIES.put(Device.Kind.EMULATED_GPU, d -> io.jnorm.backend.cuda.CudaBackend.forDevice(d));
        FACTORIES.put(Device.Kind.CUDA, d -> io.jnorm.backend.cuda.CudaBackend.forDevice(d));
    }

    private Backends() {
    }

    /** Registers how to build the backend of a kind of device. */
    public static void registerFactory(Device.Kind kind, Function<Device, Backend> factory) {
        FACTORIES.put(kind, factory);
    }

    /**
     * @throws IllegalStateException saying why when no backend exists for the device
     */
    public static Backend of(Device device) {
        Backend b = BACKENDS.get(device);
        if (b != null) {
            return b;
        }
        Function<Device, Backend> f = FACTORIES.get(device.kind());
        if (f == null) {
            throw new IllegalStateException("no backend for device " + device
                    + ": jnorm's cuda backend is not available in this build");
        }
        return BACKENDS.computeIfAbsent(device, f);
    }
}
