package io.jnorm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code jnorm devices}: the devices this build can compute on and the GPU probe's findings. */
@Command(name = "devices", description = "List the devices jnorm can use here, best first.")
final class DevicesCommand implements Callable<Integer> {
    private final Supplier<DeviceCatalog> catalog;

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    DevicesCommand(Supplier<DeviceCatalog> catalog) {
        this.catalog = catalog;
    }

    @Override
    public Integer call() throws Exception {
        DeviceCatalog c = catalog.get();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper m = new ObjectMapper();
            ObjectNode root = m.createObjectNode();
            ArrayNode list = root.putArray("devices");
            for (DeviceInfo d : c.devices()) {
                list.addObject().put("device", d.device().toString()).put("gpu", d.device().isGpu()).put("summary", d.summary());
            }
            root.put("best", c.best().toString());
            ArrayNode status = root.putArray("gpuStatus");
            c.gpuStatus().forEach(status::add);
            out.println(m.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        } else {
            for (DeviceInfo d : c.devices()) {
                out.printf("%-14s %s%n", d.device(), d.summary());
            }
            c.gpuStatus().forEach(out::println);
            out.println("best: " + c.best());
        }
        out.flush();
        return 0;
    }
}
