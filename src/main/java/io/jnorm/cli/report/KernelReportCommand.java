package io.jnorm.cli.report;

import io.jnorm.backend.cuda.CudaBackend;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jnorm kernel-report}: the per-kernel / per-op quality report, computed without a GPU.
 * Exit code 1 when any budget fails (the report is still written), as gradcheck does for a
 * failing case.
 */
@Command(name = "kernel-report",
        description = {"Kernel quality without a GPU: ptxas -v registers/spills/stack for sm_80 and sm_90 on "
                + "every committed PTX kernel, and per op the emulated GPU's global bytes (vs the minimum), "
                + "coalescing, 16-byte loads, atomics and launches, against issue 5's budgets.",
                "Prints Markdown (or JSON); exits 1 if any budget fails."})
public final class KernelReportCommand implements Callable<Integer> {
    private final BiFunction<Boolean, Consumer<String>, KernelReport> builder;

    @Spec
    CommandSpec spec;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the report to FILE instead of standard output.")
    Path out;

    @Option(names = "--json", description = "JSON instead of Markdown.")
    boolean json;

    @Option(names = "--no-ptxas", description = "Skip the ptxas section (it takes a while).")
    boolean noPtxas;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    /** The command over the real measurement. */
    public KernelReportCommand() {
        this(KernelReport::build);
    }

    /** The command over a given report builder (tests). */
    public KernelReportCommand(BiFunction<Boolean, Consumer<String>, KernelReport> builder) {
        this.builder = builder;
    }

    @Override
    public Integer call() throws IOException {
        // The counters do not depend on the sanitizer, which only slows the emulator down; the
        // user's explicit -Djnorm.emu.sanitizer wins.
        if (System.getProperty(CudaBackend.SANITIZER_PROPERTY) == null) {
            System.setProperty(CudaBackend.SANITIZER_PROPERTY, "false");
        }
        PrintWriter err = spec.commandLine().getErr();
        KernelReport r = builder.apply(!noPtxas, op -> {
            err.println("kernel-report: measuring " + op);
            err.flush();
        });
        String text = json ? ReportFormat.json(r) : ReportFormat.markdown(r);
        PrintWriter stdout = spec.commandLine().getOut();
        // With the report on stdout (e.g. piped into jq), the summary goes to stderr.
        PrintWriter summary = stdout;
        if (out != null) {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(out, text, StandardCharsets.UTF_8);
            stdout.println("kernel-report: wrote " + out);
        } else {
            stdout.print(text);
            stdout.flush();
            summary = err;
        }
        if (!r.ptxas().available()) {
            summary.println("kernel-report: " + r.ptxas().status());
        }
        List<String> failures = r.failures();
        summary.println(failures.isEmpty() ? "kernel-report: every budget is met"
                : "kernel-report: " + failures.size() + " budget(s) failed:");
        for (String f : failures) {
            summary.println("  " + f);
        }
        summary.flush();
        return failures.isEmpty() ? 0 : 1;
    }
}
