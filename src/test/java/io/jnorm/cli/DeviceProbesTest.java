package io.jnorm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnorm.backend.cuda.CudaBackend;
import io.jnorm.cli.CliTestSupport.Run;
import io.jnorm.gpu.GpuAvailability;
import io.jnorm.tensor.Device;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The GPU probes this build registers: the emulated GPU is always listed but never the implicit
 * best device; a CUDA GPU is listed (and best) only when the CUDA probe says it is usable; and
 * {@code gradcheck --device emulated} really runs on the emulated GPU and says so.
 */
class DeviceProbesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Supplier<DeviceCatalog> catalog(GpuAvailability cuda) {
        return () -> new DeviceCatalog(List.of(new CudaGpuProbe(() -> cuda), new EmulatedGpuProbe()));
    }

    @Test
    void withoutCudaTheEmulatorIsListedTheReasonShownAndTheCpuIsBest() throws Exception {
        Supplier<DeviceCatalog> c = catalog(GpuAvailability.unavailable("no NVIDIA driver: libcuda.so.1 not found"));
        Run r = CliTestSupport.run(c, GradcheckSuite::standard, "devices");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("emulated-gpu   (PTX emulator)"), r.out());
        assertTrue(r.out().contains("cuda: no usable GPU: no NVIDIA driver: libcuda.so.1 not found"), r.out());
        assertTrue(r.out().contains(EmulatedGpuProbe.STATUS), r.out());
        assertTrue(r.out().strip().endsWith("best: cpu"), r.out());

        JsonNode root = JSON.readTree(CliTestSupport.run(c, GradcheckSuite::standard, "devices", "--json").out());
        assertEquals("cpu", root.get("best").asText());
        assertEquals(List.of("cpu", "emulated-gpu"), List.of(root.get("devices").get(0).get("device").asText(),
                root.get("devices").get(1).get("device").asText()));
    }

    @Test
    void aUsableCudaGpuIsListedAndBest() {
        GpuAvailability ok = GpuAvailability.available("NVIDIA H100 80GB HBM3 (sm_90)", 13000, 2);
        Run r = CliTestSupport.run(catalog(ok), GradcheckSuite::standard, "devices");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("cuda:0         NVIDIA H100 80GB HBM3 (sm_90), CUDA driver 13.0"), r.out());
        assertTrue(r.out().contains("cuda:1         CUDA device 1"), r.out());
        assertTrue(r.out().contains("cuda: OK"), r.out());
        assertTrue(r.out().strip().endsWith("best: cuda:0"), r.out());
    }

    @Test
    void aDriverTooOldForThePtxIsNotOffered() {
        GpuAvailability old = GpuAvailability.available("Tesla T4 (sm_75)", 12040, 1);
        DeviceCatalog c = catalog(old).get();
        assertFalse(c.devices().stream().anyMatch(d -> d.device().kind() == Device.Kind.CUDA), c.devices().toString());
        assertEquals(Device.CPU, c.best());
        assertTrue(c.gpuStatus().get(0).contains("too old"), c.gpuStatus().toString());
    }

    @Test
    void theRegisteredProbesAreFoundByServiceLoader() {
        DeviceCatalog c = DeviceCatalog.discover();
        assertTrue(c.devices().stream().anyMatch(d -> d.device().equals(Device.emulatedGpu())), c.devices().toString());
        assertTrue(c.gpuStatus().contains(EmulatedGpuProbe.STATUS), c.gpuStatus().toString());
        assertTrue(c.gpuStatus().stream().anyMatch(s -> s.startsWith("cuda: ")), c.gpuStatus().toString());
        // The emulator is never the implicit choice; a real GPU is, when the probe found one.
        Device expected = GpuAvailability.cuda().available()
                && GpuAvailability.cuda().driverVersion() >= GpuAvailability.MIN_DRIVER_FOR_PTX ? Device.cuda(0) : Device.CPU;
        assertEquals(expected, c.best());
    }

    @Test
    void gradcheckOnTheEmulatedDeviceRunsThereAndSaysSo() {
        Supplier<DeviceCatalog> c = catalog(GpuAvailability.unavailable("no driver"));
        long before = totalLaunches();
        Run r = CliTestSupport.run(c, GradcheckSuite::standard, "gradcheck", "--device", "emulated", "--op", "relu",
                "--op", "add");
        assertEquals(0, r.exitCode(), r.out() + r.err());
        assertTrue(r.outLines().get(0).startsWith("gradcheck on emulated-gpu, float64"), r.out());
        assertTrue(r.out().strip().endsWith("on emulated-gpu"), r.out());
        assertTrue(totalLaunches() > before, "the emulated GPU launched no kernel: " + r.out());
    }

    @Test
    void gradcheckWithoutADeviceUsesTheCpuNotTheEmulator() {
        Run r = CliTestSupport.run(catalog(GpuAvailability.unavailable("no driver")), GradcheckSuite::standard,
                "gradcheck", "--op", "relu");
        assertEquals(0, r.exitCode(), r.out() + r.err());
        assertTrue(r.outLines().get(0).startsWith("gradcheck on cpu"), r.out());
    }

    @Test
    void gradcheckOnAnUnusableCudaDeviceIsABadUsageNamingTheReason() {
        Run r = CliTestSupport.run(catalog(GpuAvailability.unavailable("no NVIDIA driver")), GradcheckSuite::standard,
                "gradcheck", "--device", "cuda", "--op", "relu");
        assertEquals(2, r.exitCode(), r.out() + r.err());
        assertTrue(r.err().contains("cuda:0 is not available") && r.err().contains("emulated-gpu")
                && r.err().contains("no NVIDIA driver"), r.err());
    }

    private static long totalLaunches() {
        Map<String, Long> m = CudaBackend.of(Device.emulatedGpu()).launchLog().launchCounts();
        return m.values().stream().mapToLong(Long::longValue).sum();
    }
}
