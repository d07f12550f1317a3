package io.jnorm.gpu.jcuda;

import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import io.jnorm.gpu.GpuAvailability;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;
import jcuda.CudaException;
import jcuda.JCudaVersion;
import jcuda.LibUtils;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;

/**
 * The one place that first touches JCuda's native code. Called once, through
 * {@link GpuAvailability#cuda()}; it never throws.
 *
 * <p>JCuda loads its natives in the static initialiser of {@code jcuda.driver.JCudaDriver}, and
 * those natives link against libcuda.so.1, the user-space part of the NVIDIA driver. So on a
 * machine without the driver the very first JCuda call throws an {@link UnsatisfiedLinkError}
 * whose text names libcuda.so.1, and every later call a {@link NoClassDefFoundError}. Both are
 * caught here and turned into a reason.
 */
public final class CudaProbe {

    private CudaProbe() {
    }

    /**
     * Prints the verdict in one line (tools/run-gpu-suite shows it before running the tests) and
     * exits 0 when a GPU is usable, 1 when not.
     */
    public static void main(String[] args) {
        GpuAvailability cuda = GpuAvailability.cuda();
        System.out.println(cuda.describe());
        System.exit(cuda.available() ? 0 : 1);
    }

    public static GpuAvailability probe() {
        String platform;
        boolean nativesInJar;
        try {
            String library = LibUtils.createPlatformLibraryName("JCudaDriver-" + JCudaVersion.get());
            platform = library.substring(("JCudaDriver-" + JCudaVersion.get() + "-").length());
            nativesInJar = CudaProbe.class.getResource("/lib/" + LibUtils.createLibraryFileName(library)) != null;
        } catch (RuntimeException | LinkageError e) {
            return GpuAvailability.unavailable("JCuda's platform detection failed: " + e);
        }

        String init;
        try {
            init = status(() -> cuInit(0));
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            return GpuAvailability.unavailable(explainLoadFailure(describeChain(e), nativesInJar, platform));
        }
        if (!init.equals("CUDA_SUCCESS")) {
            return GpuAvailability.unavailable(explainInitFailure(init));
        }

        int[] version = new int[1];
        int[] count = new int[1];
        String versionStatus = status(() -> cuDriverGetVersion(version));
        String countStatus = status(() -> cuDeviceGetCount(count));
        if (!countStatus.equals("CUDA_SUCCESS")) {
            return GpuAvailability.unavailable("cuDeviceGetCount failed: " + CudaStatus.hint(countStatus));
        }
        if (count[0] == 0) {
            return GpuAvailability.unavailable("no CUDA device (the NVIDIA driver is installed, but it sees no GPU)");
        }
        return GpuAvailability.available(describeDevice0(), versionStatus.equals("CUDA_SUCCESS") ? version[0] : 0, count[0]);
    }

    /**
     * The reason for a failure to load JCuda's natives, from the text of the error chain. Order
     * matters: JCuda's natives are usually present and it is libcuda they cannot find.
     */
    static String explainLoadFailure(String errorText, boolean nativesInJar, String platform) {
        if (errorText.contains("libcuda.so")) {
            return "no NVIDIA driver: libcuda.so.1 not found (install the NVIDIA driver; in a container, "
                    + "pass the GPU through, e.g. docker run --gpus all)";
        }
        if (errorText.contains("nvcuda.dll")) {
            return "no NVIDIA driver: nvcuda.dll not found (install the NVIDIA driver)";
        }
        if (!nativesInJar) {
            return "JCuda natives for " + platform + " missing: org.jcuda:jcuda-natives:" + JCudaVersion.get()
                    + " with classifier " + platform + " is not on the classpath (JCuda may not publish it)";
        }
        if (errorText.contains("Could not initialize class")) {
            return "JCuda's natives failed to load earlier in this JVM (see the first error it logged); "
                    + "JCuda natives for " + platform + " are present";
        }
        return "JCuda natives for " + platform + " failed to load: " + firstLine(errorText);
    }

    static String explainInitFailure(String status) {
        if (status.equals("CUDA_ERROR_NO_DEVICE")) {
            return "no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE; check nvidia-smi and CUDA_VISIBLE_DEVICES)";
        }
        return "cuInit failed with " + status + ": " + CudaStatus.hint(status);
    }

    private static String describeDevice0() {
        CUdevice device = new CUdevice();
        if (!status(() -> cuDeviceGet(device, 0)).equals("CUDA_SUCCESS")) {
            return "device 0 (name unavailable)";
        }
        byte[] name = new byte[256];
        int[] major = new int[1];
        int[] minor = new int[1];
        status(() -> cuDeviceGetName(name, name.length, device));
        status(() -> cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device));
        status(() -> cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device));
        return cString(name) + " (compute capability " + major[0] + "." + minor[0] + ")";
    }

    /** The CUresult name of a call, whether or not JCuda's exceptions are enabled. */
    private static String status(IntSupplier call) {
        try {
            return CudaStatus.name(call.getAsInt());
        } catch (CudaException e) {
            return CudaStatus.name(e);
        }
    }

    static String cString(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8).trim();
    }

    private static String describeChain(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t.getClass().getName()).append(": ").append(t.getMessage()).append('\n');
        }
        return sb.toString();
    }

    private static String firstLine(String text) {
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }
}
