package io.jnorm.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;

/**
 * A CPU-only user loads nothing GPU-related: with jnorm's classes in a fresh class loader,
 * creating and reading a CPU tensor leaves the cuda backend, the emulator and JCuda unloaded;
 * asking for the emulated GPU then loads the cuda backend.
 */
class LazyRegistrationTest {

    /** Loads io.jnorm.* itself (child first) and can say which classes it has loaded. */
    static final class Isolated extends URLClassLoader {
        Isolated(URL[] urls, ClassLoader parent) {
            super(urls, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                if (name.startsWith("io.jnorm.")) {
                    Class<?> c = findLoadedClass(name);
                    if (c == null) {
                        c = findClass(name);
                    }
                    return c;
                }
                return super.loadClass(name, resolve);
            }
        }

        boolean loaded(String name) {
            return findLoadedClass(name) != null;
        }
    }

    @Test
    void cpuTensorsLoadNoGpuClassesAndTheEmulatedGpuLoadsTheCudaBackend() throws Exception {
        URL classes = CudaBackend.class.getProtectionDomain().getCodeSource().getLocation();
        try (Isolated loader = new Isolated(new URL[] {classes}, LazyRegistrationTest.class.getClassLoader())) {
            Class<?> tensor = loader.loadClass("io.jnorm.tensor.Tensor");
            Class<?> dtype = loader.loadClass("io.jnorm.tensor.DType");
            Object f64 = dtype.getField("F64").get(null);
            Object t = tensor.getMethod("zeros", dtype, int[].class).invoke(null, f64, new int[] {2, 3});
            assertEquals(6, ((double[]) tensor.getMethod("toDoubleArray").invoke(t)).length);
            assertTrue(loader.loaded("io.jnorm.backend.Backends"));
            assertFalse(loader.loaded("io.jnorm.backend.cuda.CudaBackend"), "cuda backend loaded for a CPU tensor");
            assertFalse(loader.loaded("io.jnorm.gpu.emu.PtxEmulator"), "emulator loaded for a CPU tensor");
            assertFalse(loader.loaded("io.jnorm.gpu.jcuda.JCudaDriver"), "JCuda driver loaded for a CPU tensor");

            Class<?> device = loader.loadClass("io.jnorm.tensor.Device");
            Object emu = device.getMethod("emulatedGpu").invoke(null);
            loader.loadClass("io.jnorm.backend.Backends").getMethod("of", device).invoke(null, emu);
            assertTrue(loader.loaded("io.jnorm.backend.cuda.CudaBackend"));
            assertFalse(loader.loaded("io.jnorm.gpu.jcuda.JCudaDriver"), "the emulated GPU needs no JCuda");
        }
    }
}
