package io.jnorm.cli;

import io.jnorm.cli.report.KernelReportCommand;
import java.io.PrintWriter;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code jnorm} command line. Exit codes: 0 success, 1 a check failed, 2 bad usage (an
 * unknown option, op or device: the message says which and what is accepted).
 */
@Command(name = "jnorm",
        description = "GPU tensor engine for Java specialised in normalization layers.",
        synopsisSubcommandLabel = "COMMAND",
        commandListHeading = "%nCommands:%n",
        footer = {"", "Exit codes: 0 success, 1 a check failed, 2 bad usage."})
public final class Main {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(commandLine(DeviceCatalog::discover, GradcheckSuite::standard).execute(args));
    }

    /**
     * The command line with its sources of devices and checks; both are asked for only when a
     * command needs them, so {@code --help} probes nothing.
     */
    public static CommandLine commandLine(Supplier<DeviceCatalog> devices, Supplier<GradcheckSuite> suite) {
        return commandLine(devices, suite, new KernelReportCommand());
    }

    /** The same, with the kernel-report command given (tests pass one over a prepared report). */
    public static CommandLine commandLine(Supplier<DeviceCatalog> devices, Supplier<GradcheckSuite> suite,
                                          KernelReportCommand kernelReport) {
        CommandLine cl = new CommandLine(new Main());
        cl.addSubcommand("devices", new DevicesCommand(devices));
        cl.addSubcommand("gradcheck", new GradcheckCommand(devices, suite));
        cl.addSubcommand("kernel-report", kernelReport);
        cl.addSubcommand("help", new CommandLine.HelpCommand());
        cl.setParameterExceptionHandler(Main::usageError);
        return cl;
    }

    /**
     * A usage error: the message and a pointer to --help (the full usage of a sub-command would
     * bury the message); the bare {@code jnorm} gets its short usage, which lists the commands.
     */
    private static int usageError(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println(ex.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
        if (cmd.getParent() == null) {
            cmd.usage(err);
        } else {
            err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        }
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }
}
