package io.jnorm.cli.report;

import io.jnorm.gpu.PtxResources;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs {@code ptxas -v} on every committed PTX module for real GPU targets and reads, per kernel,
 * registers, shared memory, stack frame and spill bytes (the same numbers tools/ptxas-report
 * prints). A stack frame or spills mean per-thread local memory, which no jnorm kernel should
 * need, so both must be 0.
 */
final class PtxasReport {
    /** The targets jnorm is tuned for: A100 and H100. */
    static final List<String> ARCHS = List.of("sm_80", "sm_90");

    /** One kernel on one target. */
    record Kernel(String module, String arch, String kernel, int registers, int sharedBytes, int stackBytes,
                  int spillStores, int spillLoads) {
        boolean clean() {
            return stackBytes == 0 && spillStores == 0 && spillLoads == 0;
        }
    }

    /**
     * The result: {@code available} is false when ptxas is not installed, with {@code status}
     * saying so; then {@code kernels} is empty and nothing was checked.
     */
    record Result(boolean available, String status, List<Kernel> kernels) {
    }

    private static final Pattern ENTRY = Pattern.compile("Compiling entry function '([^']+)'");
    private static final Pattern FRAME = Pattern.compile(
            "(\\d+) bytes stack frame, (\\d+) bytes spill stores, (\\d+) bytes spill loads");
    private static final Pattern USED = Pattern.compile("Used (\\d+) registers");
    private static final Pattern SMEM = Pattern.compile("(\\d+) bytes smem");

    private PtxasReport() {
    }

    /** ptxas on PATH, or null. */
    static Path findPtxas() {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "ptxas");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** Assembles every module for every target in {@link #ARCHS}. */
    static Result run() {
        Path ptxas = findPtxas();
        if (ptxas == null) {
            return new Result(false, "ptxas not found on PATH (it ships with the CUDA toolkit): registers, "
                    + "spills and stack frames were NOT checked", List.of());
        }
        List<Kernel> out = new ArrayList<>();
        Path dir = null;
        try {
            dir = Files.createTempDirectory("jnorm-ptxas");
            List<String> modules = modules();
            for (String module : modules) {
                Path ptx = dir.resolve(module + ".ptx");
                Files.writeString(ptx, PtxResources.load(module), StandardCharsets.UTF_8);
                for (String arch : ARCHS) {
                    out.addAll(parse(module, arch, assemble(ptxas, arch, ptx)));
                }
            }
            return new Result(true, ptxas + " -v on " + modules.size() + " PTX modules for " + String.join(", ", ARCHS),
                    out);
        } catch (IOException e) {
            throw new UncheckedIOException("kernel-report: running ptxas", e);
        } finally {
            deleteQuietly(dir);
        }
    }

    private static String assemble(Path ptxas, String arch, Path ptx) throws IOException {
        Process p = new ProcessBuilder(ptxas.toString(), "-v", "-arch=" + arch, "-o", "/dev/null", ptx.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("kernel-report: ptxas timed out on " + ptx.getFileName() + " for " + arch);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("kernel-report: interrupted while ptxas ran", e);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException("kernel-report: ptxas failed on " + ptx.getFileName() + " for " + arch
                    + ":\n" + log);
        }
        return log;
    }

    /** Reads ptxas -v output: per entry a stack/spill line, then a "Used N registers" line. */
    static List<Kernel> parse(String module, String arch, String log) {
        List<Kernel> out = new ArrayList<>();
        String kernel = null;
        int[] frame = {0, 0, 0};
        for (String line : log.split("\n")) {
            Matcher m = ENTRY.matcher(line);
            if (m.find()) {
                kernel = m.group(1);
                frame = new int[] {0, 0, 0};
                continue;
            }
            m = FRAME.matcher(line);
            if (m.find()) {
                frame = new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))};
                continue;
            }
            m = USED.matcher(line);
            if (m.find() && kernel != null) {
                Matcher s = SMEM.matcher(line);
                int smem = s.find() ? Integer.parseInt(s.group(1)) : 0;
                out.add(new Kernel(module, arch, kernel, Integer.parseInt(m.group(1)), smem, frame[0], frame[1], frame[2]));
                kernel = null;
            }
        }
        return out;
    }

    /** The names of the PTX modules on the classpath (from a folder or from the jar). */
    static List<String> modules() throws IOException {
        TreeSet<String> names = new TreeSet<>();
        Enumeration<URL> roots = PtxasReport.class.getClassLoader().getResources(PtxResources.FOLDER);
        while (roots.hasMoreElements()) {
            URL url = roots.nextElement();
            if ("file".equals(url.getProtocol())) {
                try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
                    files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".ptx")).forEach(names::add);
                } catch (URISyntaxException e) {
                    throw new IOException("bad resource URL " + url, e);
                }
            } else if ("jar".equals(url.getProtocol())) {
                JarFile jar = ((JarURLConnection) url.openConnection()).getJarFile();
                for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                    String n = e.nextElement().getName();
                    if (n.startsWith(PtxResources.FOLDER) && n.endsWith(".ptx") && n.indexOf('/', PtxResources.FOLDER.length()) < 0) {
                        names.add(n.substring(PtxResources.FOLDER.length()));
                    }
                }
            }
        }
        List<String> out = new ArrayList<>();
        names.stream().map(n -> n.substring(0, n.length() - ".ptx".length()))
                .forEach(out::add);
        return out;
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary folder left behind is harmless
        }
    }
}
