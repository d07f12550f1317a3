package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.backend;
import static io.jnorm.backend.cuda.CudaTestSupport.cpu;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jnorm.backend.cpu.CpuBuffer;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The host fallback on a family shaped like the norm families being written elsewhere: state
 * passed in a record, in-place updates, arrays of tensors, null optionals, scalars, errors.
 */
class HostFallbackTest {

    /** Statistics travel in a record, as SwitchableNormKernels.Stats does. */
    record Stats(Tensor mean, Tensor var) {
    }

    interface StatsFamily {
        /** out = x * factor; stats.mean += factor (in place); extras[i] *= 2 (in place). */
        void update(Tensor x, double factor, Stats stats, Tensor[] extras, Tensor optional, Tensor out);

        void fail(Tensor x);

        /** A new tensor: 2 * x. */
        Tensor twice(Tensor x);
    }

    /** A reference implementation written against CpuBuffer, as the CPU backend's families are. */
    static final class CpuStatsFamily implements StatsFamily {
        Object lastOptional = "unset";

        @Override
        public void update(Tensor x, double factor, Stats stats, Tensor[] extras, Tensor optional, Tensor out) {
            lastOptional = optional;
            double[] v = CpuBuffer.read(x);
            for (int i = 0; i < v.length; i++) {
                v[i] *= factor;
            }
            CpuBuffer.write(out, v);
            double[] m = CpuBuffer.read(stats.mean());
            for (int i = 0; i < m.length; i++) {
                m[i] += factor;
            }
            CpuBuffer.write(stats.mean(), m);
            for (Tensor e : extras) {
                double[] ev = CpuBuffer.read(e);
                for (int i = 0; i < ev.length; i++) {
                    ev[i] *= 2;
                }
                CpuBuffer.write(e, ev);
            }
        }

        @Override
        public Tensor twice(Tensor x) {
            double[] v = CpuBuffer.read(x);
            for (int i = 0; i < v.length; i++) {
                v[i] *= 2;
            }
            return Tensor.fromDoubles(v, x.shape(), x.dtype(), x.device());
        }

        @Override
        public void fail(Tensor x) {
            throw new IllegalArgumentException("fail: bad x " + x.shape());
        }
    }

    @Test
    void outputsAndInPlaceStateComeBackThroughRecordsAndArrays() {
        CpuStatsFamily ref = new CpuStatsFamily();
        StatsFamily f = HostFallback.of(StatsFamily.class, "stats", ref, backend());
        try (Scope s = Scope.open()) {
            Tensor x = gpu(cpu(new double[] {1, 2, 3}, DType.F32, 3));
            Tensor mean = gpu(cpu(new double[] {10, 20}, DType.F64, 2));
            Tensor var = gpu(cpu(new double[] {5, 6}, DType.F64, 2));
            Tensor extra = gpu(cpu(new double[] {0.5}, DType.F32, 1));
            Tensor out = Tensor.zeros(x.shape(), DType.F32, x.device());
            long before = backend().launchLog().fallbackCounts().getOrDefault("stats.update", 0L);
            f.update(x, 3.0, new Stats(mean, var), new Tensor[] {extra}, null, out);
            assertArrayEquals(new double[] {3, 6, 9}, out.toDoubleArray(), "output");
            assertArrayEquals(new double[] {13, 23}, mean.toDoubleArray(), "record component updated in place");
            assertArrayEquals(new double[] {5, 6}, var.toDoubleArray(), "untouched component");
            assertArrayEquals(new double[] {1.0}, extra.toDoubleArray(), "array element updated in place");
            assertArrayEquals(new double[] {1, 2, 3}, x.toDoubleArray(), "input");
            assertNull(ref.lastOptional, "null stays null");
            assertEquals(before + 1, backend().launchLog().fallbackCounts().get("stats.update"));
        }
    }

    @Test
    void aReturnedTensorComesBackOnTheDeviceAndOutlivesTheCall() {
        StatsFamily f = HostFallback.of(StatsFamily.class, "stats", new CpuStatsFamily(), backend());
        try (Scope s = Scope.open()) {
            Tensor y = f.twice(gpu(cpu(new double[] {1, -2}, DType.F64, 2)));
            assertEquals(backend().device(), y.device());
            assertArrayEquals(new double[] {2, -4}, y.toDoubleArray());
        }
    }

    @Test
    void theReferencesExceptionReachesTheCallerUnwrapped() {
        StatsFamily f = HostFallback.of(StatsFamily.class, "stats", new CpuStatsFamily(), backend());
        try (Scope s = Scope.open()) {
            Tensor x = gpu(cpu(new double[] {1}, DType.F64, 1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.fail(x));
            assertEquals("fail: bad x [1]", e.getMessage());
        }
        assertEquals(f, f);
        assertEquals("HostFallback(stats on " + backend().device() + ")", f.toString());
    }
}
