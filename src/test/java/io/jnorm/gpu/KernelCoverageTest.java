package io.jnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every {@code .entry} of every committed PTX file is claimed by a {@link CoversKernels} test,
 * and every claim names a kernel that exists. A new kernel without a test fails here.
 */
class KernelCoverageTest {

    @Test
    void everyCommittedKernelIsCoveredByATest() throws Exception {
        Set<String> entries = new TreeSet<>();
        for (Path ptx : committedPtx()) {
            String module = ptx.getFileName().toString().replace(".ptx", "");
            PtxEntrySignatures.parse(Files.readString(ptx)).keySet().forEach(e -> entries.add(module + ":" + e));
        }
        assertFalse(entries.isEmpty(), "no PTX found in " + PtxResources.FOLDER);

        Set<String> claimed = new TreeSet<>();
        for (Class<?> testClass : testClasses()) {
            for (Method m : testClass.getDeclaredMethods()) {
                CoversKernels covers = m.getAnnotation(CoversKernels.class);
                if (covers != null) {
                    for (String k : covers.value()) {
                        claimed.add(covers.module() + ":" + k);
                    }
                }
            }
        }

        Set<String> uncovered = new TreeSet<>(entries);
        uncovered.removeAll(claimed);
        Set<String> unknown = new TreeSet<>(claimed);
        unknown.removeAll(entries);
        assertEquals(Set.of(), uncovered, "kernels that no @CoversKernels test launches");
        assertEquals(Set.of(), unknown, "@CoversKernels claims for kernels that do not exist in the PTX");
    }

    /** The PTX files on the test classpath (target/classes/io/jnorm/ptx). */
    private static List<Path> committedPtx() throws URISyntaxException, IOException {
        Path folder = Path.of(KernelCoverageTest.class.getClassLoader().getResource(PtxResources.FOLDER).toURI());
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(p -> p.toString().endsWith(".ptx")).sorted().toList();
        }
    }

    /** Every compiled test class, found by walking the test-classes folder this class lives in. */
    private static List<Class<?>> testClasses() throws URISyntaxException, IOException {
        Path root = Path.of(KernelCoverageTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<Class<?>> classes = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.filter(f -> f.toString().endsWith("Test.class")).toList()) {
                String name = root.relativize(p).toString().replace('/', '.').replace('\\', '.');
                try {
                    classes.add(Class.forName(name.substring(0, name.length() - ".class".length()), false,
                            KernelCoverageTest.class.getClassLoader()));
                } catch (ClassNotFoundException e) {
                    throw new UncheckedIOException(new IOException("cannot load test class " + name, e));
                }
            }
        }
        return classes;
    }
}
