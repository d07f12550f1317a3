package io.jnorm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnorm.cli.CliTestSupport.Run;
import io.jnorm.tensor.Device;
import java.util.List;
import org.junit.jupiter.api.Test;

class MainTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static void assertMentions(String text, String... fragments) {
        for (String f : fragments) {
            assertTrue(text.contains(f), "expected '" + f + "' in:\n" + text);
        }
    }

    @Test
    void gradcheckPrintsOneOkLinePerCaseAndExitsZero() {
        GradcheckSuite suite = GradcheckSuite.standard();
        Run r = CliTestSupport.run("gradcheck");
        assertEquals(0, r.exitCode(), r.out() + r.err());
        List<String> lines = r.outLines();
        assertMentions(lines.get(0), "cpu", "float64", suite.cases().size() + " cases");
        for (int i = 0; i < suite.cases().size(); i++) {
            GradcheckSuite.Case c = suite.cases().get(i);
            String line = lines.get(i + 1);
            assertTrue(line.startsWith(c.op() + " ") && line.contains(c.description()) && line.endsWith("  ok")
                    && line.contains("max|err| "), "line for " + c + ": " + line);
        }
        assertMentions(lines.get(lines.size() - 1), suite.cases().size() + " passed, 0 failed");
    }

    @Test
    void opOptionSelectsCasesAndRepeats() {
        Run r = CliTestSupport.run("gradcheck", "--device", "cpu", "--dtype", "f64", "--op", "add", "--op", "log_softmax");
        assertEquals(0, r.exitCode(), r.err());
        long add = r.outLines().stream().filter(l -> l.startsWith("add ")).count();
        long lsm = r.outLines().stream().filter(l -> l.startsWith("log_softmax ")).count();
        int expected = GradcheckSuite.standard().only(List.of("add", "log_softmax")).cases().size();
        assertEquals(expected, add + lsm);
        assertTrue(add >= 1 && lsm >= 1);
        assertFalse(r.out().contains("conv2d"));
    }

    @Test
    void aFailingCaseGivesExitCodeOneAndSaysWhere() {
        GradcheckSuite broken = new GradcheckSuite(List.of(
                GradcheckSuite.Case.of("add", "%s+%s", x -> x[0].add(x[1]), GradcheckSuite.Input.of(2, 3),
                        GradcheckSuite.Input.of(3)),
                GradcheckSuite.Case.of("wrong_square", "%s", x -> CliTestSupport.wrongSquare(x[0]),
                        GradcheckSuite.Input.of(2, 2))));
        Run r = CliTestSupport.run(() -> new DeviceCatalog(List.of()), () -> broken, "gradcheck");
        assertEquals(1, r.exitCode());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("add ") && l.endsWith("ok")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("wrong_square ") && l.endsWith("FAIL")), r.out());
        assertMentions(r.out(), "gradcheck failed for input 0 [2, 2]", "1 passed, 1 failed");
    }

    @Test
    void badOptionsAreUsageErrorsWithClearMessages() {
        Run unknownOp = CliTestSupport.run("gradcheck", "--op", "convolve");
        assertEquals(2, unknownOp.exitCode());
        assertMentions(unknownOp.err(), "unknown op 'convolve'", "conv2d", "Try 'jnorm gradcheck --help'");

        Run f32 = CliTestSupport.run("gradcheck", "--dtype", "f32");
        assertEquals(2, f32.exitCode());
        assertMentions(f32.err(), "--dtype f32", "float64");

        Run badDtype = CliTestSupport.run("gradcheck", "--dtype", "int8");
        assertEquals(2, badDtype.exitCode());
        assertMentions(badDtype.err(), "unknown --dtype 'int8'");

        Run noGpu = CliTestSupport.run("gradcheck", "--device", "cuda");
        assertEquals(2, noGpu.exitCode());
        assertMentions(noGpu.err(), "cuda:0 is not available", "usable here: cpu", "not probed");

        Run badDevice = CliTestSupport.run("gradcheck", "--device", "tpu");
        assertEquals(2, badDevice.exitCode());
        assertMentions(badDevice.err(), "unknown device 'tpu'");

        Run badOption = CliTestSupport.run("gradcheck", "--fast");
        assertEquals(2, badOption.exitCode());
        assertMentions(badOption.err(), "Unknown option: '--fast'");

        Run noCommand = CliTestSupport.run();
        assertEquals(2, noCommand.exitCode());
        assertMentions(noCommand.err(), "Missing required subcommand", "gradcheck", "devices");

        for (Run r : List.of(unknownOp, f32, noGpu, badOption)) {
            assertEquals("", r.out(), "usage errors print nothing on stdout");
        }
    }

    @Test
    void listPrintsTheCatalogueWithoutRunningIt() {
        Run r = CliTestSupport.run("gradcheck", "--list");
        assertEquals(0, r.exitCode());
        assertEquals(GradcheckSuite.standard().cases().size(), r.outLines().size());
        assertFalse(r.out().contains("max|err|"));
    }

    @Test
    void gradcheckJsonIsMachineReadable() throws Exception {
        Run r = CliTestSupport.run("gradcheck", "--op", "mul", "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode root = JSON.readTree(r.out());
        assertEquals("cpu", root.get("device").asText());
        assertEquals("float64", root.get("dtype").asText());
        assertTrue(root.get("passed").asBoolean());
        assertEquals(GradcheckSuite.standard().only(List.of("mul")).cases().size(), root.get("cases").size());
        JsonNode first = root.get("cases").get(0);
        assertEquals("mul", first.get("op").asText());
        assertTrue(first.get("maxAbsError").asDouble() < 1e-5);
    }

    @Test
    void devicesListsTheCpuAndSaysTheGpuWasNotProbed() throws Exception {
        Run r = CliTestSupport.run("devices");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.outLines().get(0).startsWith("cpu "), r.out());
        assertMentions(r.out(), DeviceCatalog.NOT_PROBED, "best: cpu");

        Run j = CliTestSupport.run("devices", "--json");
        JsonNode root = JSON.readTree(j.out());
        assertEquals(1, root.get("devices").size());
        assertEquals("cpu", root.get("devices").get(0).get("device").asText());
        assertEquals("cpu", root.get("best").asText());
        assertEquals(DeviceCatalog.NOT_PROBED, root.get("gpuStatus").get(0).asText());
    }

    @Test
    void aProbedGpuIsListedAndBecomesTheBestDevice() {
        GpuProbe found = () -> new GpuProbe.Report(
                List.of(new DeviceInfo(Device.cuda(0), "Test GPU, 80 GiB")), "CUDA: 1 device");
        GpuProbe broken = () -> {
            throw new IllegalStateException("driver exploded");
        };
        Run r = CliTestSupport.run(() -> new DeviceCatalog(List.of(found, broken)), GradcheckSuite::standard, "devices");
        assertEquals(0, r.exitCode(), r.err());
        assertMentions(r.out(), "cuda:0", "Test GPU, 80 GiB", "CUDA: 1 device", "failed: java.lang.IllegalStateException: driver exploded",
                "best: cuda:0");
        assertFalse(r.out().contains("not probed"));
    }

    @Test
    void helpDescribesTheCommands() {
        Run r = CliTestSupport.run("--help");
        assertEquals(0, r.exitCode());
        assertMentions(r.out(), "gradcheck", "devices", "Exit codes");
        Run g = CliTestSupport.run("gradcheck", "--help");
        assertEquals(0, g.exitCode());
        assertMentions(g.out(), "--device", "--dtype", "--op");
    }
}
