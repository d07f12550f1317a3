package io.jnorm.backend.cuda;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the launches of each kernel and the host fallbacks of each op, so tests (and users
 * profiling on the emulator) can assert which kernel actually ran. Counting is a map lookup on
 * the cached kernel name and an increment; nothing is formatted per launch.
 */
public final class LaunchLog {
    private final Map<String, LongAdder> launches = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> fallbacks = new ConcurrentHashMap<>();

    void launched(String kernel) {
        launches.computeIfAbsent(kernel, k -> new LongAdder()).increment();
    }

    void fellBack(String op) {
        fallbacks.computeIfAbsent(op, k -> new LongAdder()).increment();
    }

    /** Launches of one kernel (its PTX entry name, e.g. "ew_binary_f32") so far. */
    public long launches(String kernel) {
        LongAdder a = launches.get(kernel);
        return a == null ? 0 : a.sum();
    }

    /** Every kernel launched so far with its count, sorted by name. */
    public Map<String, Long> launchCounts() {
        return snapshot(launches);
    }

    /**
     * Host fallbacks per op ("conv.conv2dForward"): calls that ran on the CPU reference because
     * the family has no CUDA kernel yet.
     */
    public Map<String, Long> fallbackCounts() {
        return snapshot(fallbacks);
    }

    private static Map<String, Long> snapshot(Map<String, LongAdder> m) {
        Map<String, Long> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
