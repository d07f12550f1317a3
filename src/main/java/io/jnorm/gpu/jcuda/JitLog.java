package io.jnorm.gpu.jcuda;

import java.nio.charset.StandardCharsets;

/** The driver JIT's log buffers, decoded and folded into messages. */
final class JitLog {

    /** Size of each log buffer; the JIT truncates what does not fit. */
    static final int BUFFER_BYTES = 64 * 1024;

    private JitLog() {
    }

    /** The NUL-terminated text the driver wrote into {@code buffer}, trimmed. */
    static String text(byte[] buffer) {
        int end = 0;
        while (end < buffer.length && buffer[end] != 0) {
            end++;
        }
        return new String(buffer, 0, end, StandardCharsets.UTF_8).strip();
    }

    /** The part of a failed module load's message that quotes the JIT's own words. */
    static String describe(String errorLog, String infoLog) {
        StringBuilder sb = new StringBuilder();
        if (!errorLog.isEmpty()) {
            sb.append("\nJIT error log:\n").append(errorLog);
        }
        if (!infoLog.isEmpty()) {
            sb.append("\nJIT info log:\n").append(infoLog);
        }
        if (sb.length() == 0) {
            sb.append(" (the JIT wrote no log)");
        }
        return sb.toString();
    }
}
