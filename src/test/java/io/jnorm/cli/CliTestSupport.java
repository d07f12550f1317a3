package io.jnorm.cli;

import io.jnorm.autograd.Autograd;
import io.jnorm.autograd.GradMode;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.Tensor;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.function.Supplier;
import picocli.CommandLine;

/** Runs the command line in-process and captures what it prints. */
final class CliTestSupport {

    record Run(int exitCode, String out, String err) {
        List<String> outLines() {
            return out.lines().toList();
        }
    }

    private CliTestSupport() {
    }

    static Run run(Supplier<DeviceCatalog> devices, Supplier<GradcheckSuite> suite, String... args) {
        CommandLine cl = Main.commandLine(devices, suite);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** The real suite on a machine without GPU probes. */
    static Run run(String... args) {
        return run(() -> new DeviceCatalog(List.of()), GradcheckSuite::standard, args);
    }

    /** y = x^2 whose recorded gradient forgets the factor 2: a gradcheck must catch it. */
    static Tensor wrongSquare(Tensor x) {
        Tensor y;
        try (GradMode.Guard g = GradMode.noGrad()) {
            y = Ops.mul(x, x);
        }
        return Autograd.record("wrong_square", y, (gy, needs) -> new Tensor[] {Ops.mul(gy, x)}, x);
    }
}
