package io.jnorm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code jnorm gradcheck}: runs every case of the suite (or those of the chosen ops) and prints
 * one line each; the exit code is 1 when any case fails.
 */
@Command(name = "gradcheck",
        description = {"Compare every op's analytic gradients with central finite differences "
                + "(float64; eps 1e-6, |analytic - numeric| <= 1e-5 + 1e-3 |numeric|).",
                "Prints one line per case; exits 1 if any case fails."})
final class GradcheckCommand implements Callable<Integer> {
    private final Supplier<DeviceCatalog> catalog;
    private final Supplier<GradcheckSuite> suite;

    @Spec
    CommandSpec spec;

    @Option(names = "--device", paramLabel = "DEVICE",
            description = "cpu, cuda, cuda:N or emulated (default: the best available device, see 'jnorm devices': "
                    + "a CUDA GPU when one is usable, else cpu; the slow emulated GPU only when asked for).")
    String device;

    @Option(names = "--dtype", paramLabel = "DTYPE", defaultValue = "f64",
            description = "Input element type; only f64, since finite differences need float64 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--op", paramLabel = "NAME", description = "Check only this op (repeatable; default: every op).")
    List<String> ops = new ArrayList<>();

    @Option(names = "--list", description = "List the ops and their cases, then exit.")
    boolean list;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    GradcheckCommand(Supplier<DeviceCatalog> catalog, Supplier<GradcheckSuite> suite) {
        this.catalog = catalog;
        this.suite = suite;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        GradcheckSuite s = suite.get();
        try {
            if (!ops.isEmpty()) {
                s = s.only(ops);
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        // Columns as wide as the longest op name and description of this selection.
        int opWidth = s.cases().stream().mapToInt(c -> c.op().length()).max().orElse(1);
        int descWidth = s.cases().stream().mapToInt(c -> c.description().length()).max().orElse(1);
        String caseColumns = "%-" + opWidth + "s %-" + descWidth + "s";
        if (list) {
            for (GradcheckSuite.Case c : s.cases()) {
                out.printf(Locale.ROOT, "%-" + opWidth + "s %s%n", c.op(), c.description());
            }
            out.flush();
            return 0;
        }
        DType type = parseDType();
        Device target = resolveDevice();

        List<GradcheckSuite.Outcome> outcomes = new ArrayList<>();
        if (!json) {
            out.printf("gradcheck on %s, %s, %d cases%n", target, type.numpyName(), s.cases().size());
            out.flush();
        }
        long start = System.nanoTime();
        int failed = 0;
        for (GradcheckSuite.Case c : s.cases()) {
            GradcheckSuite.Outcome o = GradcheckSuite.run(c, target, type);
            outcomes.add(o);
            failed += o.passed() ? 0 : 1;
            if (!json) {
                out.printf(Locale.ROOT, caseColumns + " max|err| %.1e  %s%n", c.op(), c.description(), o.maxAbsError(),
                        o.passed() ? "ok" : "FAIL");
                if (!o.passed()) {
                    out.println("    " + o.message());
                }
                out.flush();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (json) {
            printJson(out, target, type, outcomes, failed);
        } else {
            out.printf(Locale.ROOT, "%d passed, %d failed in %.1f s on %s%n", outcomes.size() - failed, failed, seconds,
                    target);
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }

    private DType parseDType() {
        switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f64", "float64", "double":
                return DType.F64;
            case "f32", "float32", "float":
                throw new ParameterException(spec.commandLine(), "gradcheck: --dtype " + dtype
                        + " is not supported: central differences need float64 (use --dtype f64)");
            default:
                throw new ParameterException(spec.commandLine(), "gradcheck: unknown --dtype '" + dtype
                        + "'; expected f64");
        }
    }

    private Device resolveDevice() {
        DeviceCatalog c = catalog.get();
        if (device == null) {
            return c.best();
        }
        try {
            return c.require(Device.parse(device));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "gradcheck: " + e.getMessage());
        }
    }

    private static void printJson(PrintWriter out, Device target, DType type, List<GradcheckSuite.Outcome> outcomes,
                                  int failed) throws Exception {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("device", target.toString()).put("dtype", type.numpyName()).put("passed", failed == 0)
                .put("failures", failed);
        ArrayNode cases = root.putArray("cases");
        for (GradcheckSuite.Outcome o : outcomes) {
            ObjectNode n = cases.addObject();
            n.put("op", o.testCase().op()).put("inputs", o.testCase().description()).put("passed", o.passed());
            if (Double.isFinite(o.maxAbsError())) {
                n.put("maxAbsError", o.maxAbsError());
            } else {
                n.putNull("maxAbsError");
            }
            n.put("message", o.message()).put("millis", o.millis());
        }
        out.println(m.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    }
}
