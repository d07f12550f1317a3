package io.jnorm.cli.report;

import io.jnorm.gpu.PtxResources;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which kernels contain a 16-byte global vector load ({@code ld.global[.nc].v4} of 32-bit
 * elements or {@code .v2} of 64-bit ones), read from the committed PTX. The emulator's counters
 * say how many bytes each kernel loaded; together they tell what share of an op's loads went
 * through kernels built for 16-byte vectors.
 */
final class VectorLoads {
    private static final Pattern ENTRY = Pattern.compile("^\\.visible \\.entry (\\w+)\\(", Pattern.MULTILINE);
    private static final Pattern VEC16 = Pattern.compile(
            "\\bld\\.global(?:\\.\\w+)*?\\.(?:v4\\.(?:f32|b32|u32|s32)|v2\\.(?:f64|b64|u64|s64))\\b");

    private final Map<String, Boolean> byKernel = new HashMap<>();

    /** Scans every PTX module on the classpath. */
    VectorLoads() {
        try {
            for (String module : PtxasReport.modules()) {
                scan(PtxResources.load(module));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("kernel-report: listing the PTX modules", e);
        }
    }

    /** Records, for each entry of one module's text, whether its body has a 16-byte vector load. */
    void scan(String ptx) {
        Matcher m = ENTRY.matcher(ptx);
        String name = null;
        int start = 0;
        while (m.find()) {
            if (name != null) {
                byKernel.put(name, VEC16.matcher(ptx.substring(start, m.start())).find());
            }
            name = m.group(1);
            start = m.end();
        }
        if (name != null) {
            byKernel.put(name, VEC16.matcher(ptx.substring(start)).find());
        }
    }

    /** Whether the kernel's PTX has a 16-byte global vector load (false for unknown kernels). */
    boolean has(String kernel) {
        return byKernel.getOrDefault(kernel, false);
    }
}
