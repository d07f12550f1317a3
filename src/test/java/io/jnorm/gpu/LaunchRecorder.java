package io.jnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Method;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Remembers which kernels each test method launched, so that a test class can check its
 * {@link CoversKernels} claims against what actually ran (in an {@code @AfterAll}, because a
 * parameterized test launches the f32 kernel in one invocation and the f64 one in another).
 */
final class LaunchRecorder {
    private final Map<String, Set<String>> launchedByMethod = new TreeMap<>();
    private final Map<String, Set<String>> claimedByMethod = new TreeMap<>();

    /** Records that {@code method} launched {@code kernel} of {@code module}. */
    void launched(Method method, GpuKernel kernel) {
        claimedByMethod.computeIfAbsent(method.getName(), m -> claims(method));
        launchedByMethod.computeIfAbsent(method.getName(), m -> new TreeSet<>())
                .add(stripPtx(kernel.module().name()) + ":" + kernel.name());
    }

    /** Every method that launched something claimed exactly what it launched. */
    void assertClaimsMatchLaunches() {
        for (Map.Entry<String, Set<String>> e : launchedByMethod.entrySet()) {
            assertEquals(claimedByMethod.get(e.getKey()), e.getValue(),
                    "@CoversKernels of " + e.getKey() + " (expected) vs kernels it launched (actual)");
        }
    }

    private static Set<String> claims(Method method) {
        CoversKernels covers = method.getAnnotation(CoversKernels.class);
        Set<String> claimed = new TreeSet<>();
        if (covers != null) {
            for (String k : covers.value()) {
                claimed.add(covers.module() + ":" + k);
            }
        }
        return claimed;
    }

    static String stripPtx(String moduleName) {
        return moduleName.endsWith(".ptx") ? moduleName.substring(0, moduleName.length() - 4) : moduleName;
    }
}
