package io.jnorm.gpu.jcuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.gpu.GpuAvailability;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The probe's verdict on this machine, and its reasons for every way JCuda can fail to load.
 * Runs everywhere: on a GPU machine it checks the available state instead.
 */
class CudaProbeTest {

    /** Where the dynamic loader finds libcuda.so.1 on the Linux distributions and containers we meet. */
    private static boolean libcudaPresent() {
        List<String> dirs = new ArrayList<>(List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/usr/lib64", "/usr/lib", "/lib64", "/lib/x86_64-linux-gnu", "/usr/local/nvidia/lib64",
                "/usr/local/nvidia/lib", "/usr/lib/wsl/lib"));
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            dirs.addAll(List.of(ld.split(File.pathSeparator)));
        }
        return dirs.stream().anyMatch(d -> !d.isEmpty() && Files.exists(Path.of(d, "libcuda.so.1")));
    }

    @Test
    void probeGivesAClearVerdictOnThisMachine() {
        GpuAvailability cuda = GpuAvailability.cuda();
        if (cuda.available()) {
            assertTrue(cuda.deviceCount() > 0 && !cuda.device().isBlank(), cuda.toString());
            assertTrue(cuda.driverVersion() > 0, cuda.toString());
            return;
        }
        assertFalse(cuda.reason().isBlank());
        if (!libcudaPresent()) {
            assertTrue(cuda.reason().startsWith("no NVIDIA driver: libcuda.so.1 not found"), cuda.reason());
        }
        assertTrue(cuda.describe().startsWith("CUDA unavailable: "), cuda.describe());
        // Asked twice, the probe answers the same without retrying.
        assertEquals(cuda, GpuAvailability.cuda());
    }

    @Test
    void openingTheDriverWithoutAGpuSaysWhatIsMissing() {
        GpuAvailability cuda = GpuAvailability.cuda();
        if (cuda.available()) {
            try (JCudaDriver driver = JCudaDriver.open()) {
                assertTrue(driver.properties().warpSize() == 32, driver.properties().toString());
            }
            return;
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, JCudaDriver::open);
        assertTrue(e.getMessage().contains("a CUDA GPU was asked for") && e.getMessage().contains(cuda.reason()),
                e.getMessage());
    }

    @Test
    void loadFailuresAreExplainedByWhatIsMissing() {
        String noDriver = "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: "
                + "libcuda.so.1: cannot open shared object file: No such file or directory";
        assertTrue(CudaProbe.explainLoadFailure(noDriver, true, "linux-x86_64")
                .startsWith("no NVIDIA driver: libcuda.so.1 not found"));

        String noNatives = "java.lang.UnsatisfiedLinkError: Error while loading native library "
                + "\"JCudaDriver-12.6.0-linux-aarch64\"";
        String reason = CudaProbe.explainLoadFailure(noNatives, false, "linux-aarch64");
        assertTrue(reason.startsWith("JCuda natives for linux-aarch64 missing"), reason);
        assertTrue(reason.contains("org.jcuda:jcuda-natives:12.6.0"), reason);

        String other = "java.lang.UnsatisfiedLinkError: something else\nmore detail";
        assertEquals("JCuda natives for linux-x86_64 failed to load: java.lang.UnsatisfiedLinkError: something else",
                CudaProbe.explainLoadFailure(other, true, "linux-x86_64"));
    }

    @Test
    void initFailuresNameTheStatus() {
        assertTrue(CudaProbe.explainInitFailure("CUDA_ERROR_NO_DEVICE").startsWith("no CUDA device"));
        String old = CudaProbe.explainInitFailure("CUDA_ERROR_INSUFFICIENT_DRIVER");
        assertTrue(old.contains("CUDA_ERROR_INSUFFICIENT_DRIVER") && old.contains("update the driver"), old);
    }

    @Test
    void availabilityStatesAreConsistent() {
        assertThrows(IllegalArgumentException.class, () -> new GpuAvailability(true, "why", "", 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new GpuAvailability(false, "", "", 0, 0));
        GpuAvailability old = GpuAvailability.available("NVIDIA A100 (compute capability 8.0)", 12040, 1);
        assertTrue(old.describe().contains("driver supports CUDA 12.4") && old.describe().contains("R580"), old.describe());
        assertEquals("13.0", GpuAvailability.formatDriverVersion(13000));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> GpuAvailability.unavailable("no CUDA device").requireAvailable());
        assertTrue(e.getMessage().endsWith("no CUDA device"));
    }

    @Test
    void jitLogsStopAtTheTerminatingNul() {
        byte[] buffer = new byte[32];
        byte[] text = "ptxas error   : x\n".getBytes();
        System.arraycopy(text, 0, buffer, 0, text.length);
        assertEquals("ptxas error   : x", JitLog.text(buffer));
        assertEquals(" (the JIT wrote no log)", JitLog.describe("", ""));
        assertTrue(JitLog.describe("bad", "").contains("JIT error log:\nbad"));
    }
}
