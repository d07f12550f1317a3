package io.jnorm.cli.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnorm.cli.DeviceCatalog;
import io.jnorm.cli.GradcheckSuite;
import io.jnorm.cli.Main;
import io.jnorm.ops.Ops;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code jnorm kernel-report} over a one-op catalogue (relu on the emulated GPU, measured for
 * real): Markdown, JSON, --out, the exit code of a failed budget, and the ptxas status line.
 */
class KernelReportCommandTest {
    private record Run(int code, String out, String err) {
    }

    /** relu with the given forward byte budget (its minimum is 2 T: read x, write y). */
    private static OpCase relu(double fwdBudget) {
        return new OpCase("relu", new int[] {32, 128}, null, 2, 3, fwdBudget, 3, 0, true,
                (d, t) -> new OpCase.Setup(io.jnorm.tensor.Tensor.randn(new io.jnorm.tensor.Rng(1),
                        io.jnorm.tensor.Shape.of(32, 128), t, d).requiresGrad(true), Ops::relu, List.of(), List.of(), null));
    }

    private static Run run(double fwdBudget, String... args) {
        KernelReportCommand cmd = new KernelReportCommand((ptxas, progress) ->
                KernelReport.build(List.of(relu(fwdBudget)), false, progress));
        CommandLine cl = Main.commandLine(() -> new DeviceCatalog(List.of()), GradcheckSuite::standard, cmd);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /**
     * sum over rows broadcasts the upstream gradient back: each warp request of 32 output floats
     * (128 B requested) reads one gy float in all lanes, 128 B requested but one 32-byte sector.
     * Requested bytes give 1 T (output) + 1 T (gy per lane); sectors give 1 T + 1/4 T, and the
     * byte budget judges the sectors.
     */
    @Test
    void byteBudgetJudgesSectorBytesNotRequestedBytes() {
        OpCase sum = new OpCase("sum(axis=1)", new int[] {32, 128}, null, 1, 1, 1, 1.25, 0, false,
                (d, t) -> new OpCase.Setup(io.jnorm.tensor.Tensor.randn(new io.jnorm.tensor.Rng(1),
                        io.jnorm.tensor.Shape.of(32, 128), t, d).requiresGrad(true),
                        x -> Ops.sum(x, new int[] {1}, false), List.of(), List.of(), null));
        OpResult o = KernelReport.build(List.of(sum), false, null).ops().get(0);
        OpResult.Pass b = o.backward();
        assertEquals(2.0, b.transfers(), 0.02, "requested bytes of the broadcast backward");
        assertEquals(1.25, b.sectorTransfers(), 0.02, "sector bytes of the broadcast backward");
        assertEquals(32 * (b.sectorBytes() / 32), b.sectorBytes(), "sector bytes are whole sectors");
        OpResult.Check bwd = o.checks().stream().filter(c -> c.name().equals("bwd bytes")).findFirst().orElseThrow();
        assertEquals(b.sectorTransfers(), bwd.measured(), 0.0);
        assertTrue(bwd.pass(), bwd.toString());
    }

    @Test
    void markdownHasTheRegenerateCommandTheOpRowAndTheVerdict() {
        Run r = run(2, "kernel-report");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains(ReportFormat.REGENERATE), r.out());
        assertTrue(r.out().contains("| relu | [32,128] | - | 2.00 / 2.00 (2) <= 2 PASS"), r.out());
        assertTrue(r.out().contains("ew_unary_f32; ew_unary_backward_f32"), r.out());
        assertTrue(r.out().contains("**Not checked**: ptxas section not requested"), r.out());
        assertTrue(r.err().contains("kernel-report: every budget is met"), r.err());
        assertTrue(r.err().contains("kernel-report: measuring relu [32,128]"), r.err());
    }

    @Test
    void aFailedBudgetExitsOneAndNamesTheOpMeasureAndBudget() {
        Run r = run(1, "kernel-report");
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("relu [32,128]: fwd bytes = 2.000, budget 1"), r.err());
        assertTrue(r.out().contains("2.00 / 2.00 (2) > 1 **FAIL**"), r.out());
    }

    @Test
    void jsonOnStandardOutputIsOnlyJson() throws Exception {
        Run r = run(1, "kernel-report", "--json");
        assertEquals(1, r.code(), r.out() + r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertEquals(false, root.get("passed").asBoolean());
        assertEquals("fwd bytes", root.get("ops").get(0).get("checks").get(1).get("name").asText());
        assertTrue(r.err().contains("1 budget(s) failed"), r.err());
    }

    @Test
    void jsonToAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub/report.json");
        Run r = run(2, "kernel-report", "--json", "--out", file.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("wrote " + file), r.out());
        JsonNode root = new ObjectMapper().readTree(Files.readString(file));
        assertTrue(root.get("passed").asBoolean());
        JsonNode op = root.get("ops").get(0);
        assertEquals("relu", op.get("op").asText());
        long bytes = 32 * 128 * 4;
        // Forward reads x and writes y once each; the counters are the emulator's own.
        assertEquals(2 * bytes, op.get("forward").get("bytes").asLong());
        assertEquals(1, op.get("forward").get("kernels").get("ew_unary_f32").asLong());
        assertTrue(root.get("kernels").has("ew_unary_backward_f32"));
        assertEquals(false, root.get("ptxas").get("available").asBoolean());
    }

    @Test
    void ptxasOutputIsParsedPerEntry() {
        String log = String.join("\n",
                "ptxas info    : 0 bytes gmem",
                "ptxas info    : Compiling entry function 'k_f32' for 'sm_80'",
                "ptxas info    : Function properties for k_f32",
                "    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads",
                "ptxas info    : Used 18 registers, used 1 barriers, 1024 bytes smem, 380 bytes cmem[0]",
                "ptxas info    : Compiling entry function 'k_f64' for 'sm_80'",
                "ptxas info    : Function properties for k_f64",
                "    16 bytes stack frame, 8 bytes spill stores, 4 bytes spill loads",
                "ptxas info    : Used 40 registers, used 0 barriers, 380 bytes cmem[0]");
        List<PtxasReport.Kernel> k = PtxasReport.parse("m", "sm_80", log);
        assertEquals(List.of(new PtxasReport.Kernel("m", "sm_80", "k_f32", 18, 1024, 0, 0, 0),
                new PtxasReport.Kernel("m", "sm_80", "k_f64", 40, 0, 16, 8, 4)), k);
        assertTrue(k.get(0).clean());
        assertTrue(!k.get(1).clean());
    }

    @Test
    void vectorLoadsAreFoundPerEntry() {
        VectorLoads v = new VectorLoads();
        v.scan(String.join("\n", ".visible .entry a_f32(", "{", "\tld.global.nc.v4.f32 {%f1,%f2,%f3,%f4}, [%rd1];", "}",
                ".visible .entry b_f32(", "{", "\tld.global.f32 %f1, [%rd1];", "\tld.shared.v4.f32 {%f1,%f2,%f3,%f4}, [%r1];",
                "}", ".visible .entry c_f64(", "{", "\tld.global.v2.f64 {%fd1,%fd2}, [%rd2];", "}"));
        assertTrue(v.has("a_f32"));
        assertTrue(!v.has("b_f32"), "a shared-memory vector load is not a global one");
        assertTrue(v.has("c_f64"));
    }
}
