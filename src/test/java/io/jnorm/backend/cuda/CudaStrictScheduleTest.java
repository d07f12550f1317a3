package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.cpuRandn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jnorm.gpu.emu.EmulatorOptions;
import io.jnorm.gpu.emu.PtxEmulator;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The kernels that share memory between threads (block reductions, the column reduction, the
 * tiled transpose) give bit-identical results when the emulator randomizes block, warp and
 * lane-group order: a missing barrier would show up as a difference or a sanitizer report.
 * Runs on two private backends (default and strict schedule), called directly, since the
 * registry holds one backend per device.
 */
class CudaStrictScheduleTest {
    private static CudaBackend plain;
    private static CudaBackend strict;

    @BeforeAll
    static void open() {
        assumeTrue(CudaTestSupport.device().kind() == Device.Kind.EMULATED_GPU, "emulator only");
        plain = new CudaBackend(Device.emulatedGpu(), new PtxEmulator(EmulatorOptions.defaults()));
        strict = new CudaBackend(Device.emulatedGpu(), new PtxEmulator(EmulatorOptions.defaults().withStrict(12345)));
    }

    @AfterAll
    static void close() {
        if (plain != null) {
            plain.close();
            strict.close();
        }
    }

    private static double[] run(CudaBackend b, Tensor x, Shape outShape, BiConsumer<Tensor, Tensor> kernel) {
        try (Scope s = Scope.open()) {
            Tensor gx = Tensor.wrap(b.fromHost(x.dtype(), x.toDoubleArray()), x.shape());
            Tensor out = Tensor.wrap(b.allocate(x.dtype(), outShape.numel()), outShape);
            kernel.accept(gx, out);
            return b.toHost(out.buffer());
        }
    }

    private static void same(Tensor x, Shape outShape, java.util.function.Function<CudaBackend, BiConsumer<Tensor, Tensor>> k,
                             String what) {
        assertArrayEquals(run(plain, x, outShape, k.apply(plain)), run(strict, x, outShape, k.apply(strict)), what);
    }

    @Test
    void reductionsAndTransposeAreScheduleIndependent() {
        for (DType t : DType.values()) {
            try (Scope s = Scope.open()) {
                Tensor rows = cpuRandn(1, t, 5, 300);
                same(rows, Shape.of(5, 1), b -> (x, o) -> b.reductions().var(x, new boolean[] {false, true}, 1, o), "rows var " + t);
                same(rows, Shape.of(5, 1), b -> (x, o) -> b.reductions().sum(x, new boolean[] {false, true}, o), "rows sum " + t);
                Tensor shortRows = cpuRandn(3, t, 40, 20);
                same(shortRows, Shape.of(40, 1), b -> (x, o) -> b.reductions().var(x, new boolean[] {false, true}, 0, o),
                        "warp rows var " + t);
                Tensor cols = cpuRandn(2, t, 3, 50, 40);
                same(cols, Shape.of(3, 1, 40), b -> (x, o) -> b.reductions().var(x, new boolean[] {false, true, false}, 0, o),
                        "cols var " + t);
                same(cols, Shape.of(1, 50, 1), b -> (x, o) -> b.reductions().mean(x, new boolean[] {true, false, true}, o),
                        "general mean " + t);
                same(cols, Shape.of(3, 40, 50), b -> (x, o) -> b.shapes().permute(x, new int[] {0, 2, 1}, o), "transpose " + t);
            }
        }
    }
}
