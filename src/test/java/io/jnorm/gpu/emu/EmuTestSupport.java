package io.jnorm.gpu.emu;

import io.jnorm.gpu.GpuException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Shared helpers of the emulator tests. */
final class EmuTestSupport {
    private EmuTestSupport() {
    }

    static String resource(String name) {
        try (InputStream in = EmuTestSupport.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static void assertClose(double[] expected, double[] actual, double atol, double rtol, String what) {
        int worst = -1;
        double worstErr = 0;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]) - (atol + rtol * Math.abs(expected[i]));
            if (!(err <= 0) && (worst < 0 || err > worstErr || Double.isNaN(err))) {
                worst = i;
                worstErr = err;
            }
        }
        if (worst >= 0) {
            fail(String.format("%s: element %d expected %s got %s (atol %g, rtol %g)", what, worst,
                    expected[worst], actual[worst], atol, rtol));
        }
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** Runs the action, expects a GpuException with the status, and checks that its message has every part. */
    static GpuException expectFault(String status, Runnable action, String... parts) {
        GpuException e = assertThrows(GpuException.class, action::run);
        assertTrue(e.status().equals(status), "expected status " + status + " but got: " + e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        }
        return e;
    }
}
