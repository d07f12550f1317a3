package io.jnorm.cli.report;

import io.jnorm.nn.BatchChannelNorm2d;
import io.jnorm.nn.BatchNorm2d;
import io.jnorm.nn.BatchRenorm2d;
import io.jnorm.nn.GroupNorm;
import io.jnorm.nn.InstanceNorm2d;
import io.jnorm.nn.LayerNorm;
import io.jnorm.nn.Module;
import io.jnorm.nn.SwitchableNorm2d;
import io.jnorm.nn.UnifiedBatchNorm2d;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The ops the kernel report measures and their representative shapes. Each norm has a shape
 * whose per-statistic slice fits in one block's 48 KiB of shared memory and one whose slice does
 * not (64 KiB in float32), so both the fused and the streaming kernels are judged.
 *
 * <p>Budgets (issue 5): a norm's forward at most 3 T, 2 T when the slice fits; backward at most
 * 5 T, 3 T when it fits; SN and BCN one single-norm budget plus 1 T; every norm forward and the
 * WS-conv forward at most 2 launches. Ops without a statistic (elementwise, reductions, softmax,
 * pooling) are held to their minimum. GEMM and convolutions are reported, not budgeted: tiles
 * re-read operands by design.
 */
final class OpCatalog {
    private OpCatalog() {
    }

    /** Every case, in report order. */
    static List<OpCase> standard() {
        List<OpCase> c = new ArrayList<>();
        // Ops without a statistic: held to the minimum (inputs read once, outputs written once).
        c.add(plain("add", new int[] {64, 256}, 3, 3, true, (d, t) -> {
            Tensor b = Tensor.randn(new Rng(2), Shape.of(64, 256), t, d).requiresGrad(true);
            return setup(x(d, t, 64, 256), x -> Ops.add(x, b), List.of(), List.of(), b);
        }));
        c.add(plain("relu", new int[] {64, 256}, 2, 3, true,
                (d, t) -> setup(x(d, t, 64, 256), Ops::relu, List.of(), List.of(), null)));
        c.add(plain("sum(axis=1)", new int[] {64, 256}, 1, 1, true,
                (d, t) -> setup(x(d, t, 64, 256), x -> Ops.sum(x, new int[] {1}, false), List.of(), List.of(), null)));
        c.add(plain("log_softmax", new int[] {64, 256}, 2, 3, true,
                (d, t) -> setup(x(d, t, 64, 256), x -> Ops.logSoftmax(x, -1), List.of(), List.of(), null)));
        int[] targets = new int[64];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = (i * 37) % 256;
        }
        c.add(plain("cross_entropy", new int[] {64, 256}, 1, 2, true,
                (d, t) -> setup(x(d, t, 64, 256), x -> Ops.crossEntropy(x, targets), List.of(), List.of(), null)));
        c.add(plain("max_pool2d(k2,s2)", new int[] {2, 8, 32, 32}, 1.25, 2.25, false,
                (d, t) -> setup(x(d, t, 2, 8, 32, 32), x -> Ops.maxPool2d(x, 2, 2, 0), List.of(), List.of(), null)));
        c.add(plain("avg_pool2d(k2,s2)", new int[] {2, 8, 32, 32}, 1.25, 1.25, false,
                (d, t) -> setup(x(d, t, 2, 8, 32, 32), x -> Ops.avgPool2d(x, 2, 2, 0), List.of(), List.of(), null)));

        // GEMM and convolutions: reported for information, WS-conv's launches budgeted.
        c.add(info("matmul", new int[] {64, 128}, 0, (d, t) -> {
            Tensor w = Tensor.randn(new Rng(3), Shape.of(128, 64), t, d).requiresGrad(true);
            return setup(x(d, t, 64, 128), x -> Ops.matmul(x, w), List.of(w), List.of(), null);
        }));
        c.add(info("conv2d(3x3,p1)", new int[] {2, 8, 16, 16}, 0, (d, t) -> {
            Tensor w = Tensor.randn(new Rng(4), Shape.of(16, 8, 3, 3), t, d).requiresGrad(true);
            Tensor b = Tensor.randn(new Rng(5), Shape.of(16), t, d).requiresGrad(true);
            return setup(x(d, t, 2, 8, 16, 16), x -> Ops.conv2d(x, w, b, 1, 1), List.of(w, b), List.of(), null);
        }));
        c.add(info("ws_conv2d(3x3,p1)", new int[] {2, 8, 16, 16}, 2, (d, t) -> {
            Tensor w = Tensor.randn(new Rng(6), Shape.of(16, 8, 3, 3), t, d).requiresGrad(true);
            Tensor b = Tensor.randn(new Rng(7), Shape.of(16), t, d).requiresGrad(true);
            return setup(x(d, t, 2, 8, 16, 16), x -> Ops.wsConv2d(x, w, b, new int[] {1}, new int[] {1}, new int[] {1}, 1,
                    0, 1e-5, false), List.of(w, b), List.of(), null);
        }));

        // Normalization layers: a shape that fits on chip and one that streams.
        int[] small = {2, 8, 16, 16};
        norm(c, "batch_norm2d", small, new int[] {4, 2, 64, 64}, 0, (d, t, x) -> new BatchNorm2d(x[1], t, d));
        norm(c, "group_norm(G=2)", small, null, 0, (d, t, x) -> new GroupNorm(2, x[1], 1e-5, true, t, d));
        norm(c, "group_norm(G=1)", null, new int[] {2, 4, 64, 64}, 0, (d, t, x) -> new GroupNorm(1, x[1], 1e-5, true, t, d));
        norm(c, "layer_norm", small, new int[] {2, 4, 64, 64}, 0,
                (d, t, x) -> new LayerNorm(new int[] {x[1], x[2], x[3]}, 1e-5, true, t, d));
        norm(c, "instance_norm2d", small, new int[] {1, 2, 128, 128}, 0,
                (d, t, x) -> new InstanceNorm2d(x[1], 1e-5, 0.1, true, true, t, d));
        norm(c, "batch_renorm2d", small, new int[] {4, 2, 64, 64}, 0,
                (d, t, x) -> BatchRenorm2d.builder(x[1]).dtype(t).device(d).build());
        norm(c, "unified_batch_norm2d", small, new int[] {4, 2, 64, 64}, 0,
                (d, t, x) -> UnifiedBatchNorm2d.builder(x[1]).dtype(t).device(d).build());
        norm(c, "batch_channel_norm2d", small, new int[] {4, 2, 64, 64}, 1,
                (d, t, x) -> BatchChannelNorm2d.builder(x[1]).groups(1).dtype(t).device(d).build());
        norm(c, "switchable_norm2d", small, new int[] {4, 2, 64, 64}, 1,
                (d, t, x) -> SwitchableNorm2d.builder(x[1]).dtype(t).device(d).build());
        return List.copyOf(c);
    }

    /** Builds a norm layer for inputs of shape {@code dims} (NCHW) on a device. */
    @FunctionalInterface
    interface NormFactory {
        Module create(Device d, DType t, int[] dims);
    }

    /**
     * The cases of one norm: {@code fits} and {@code streams} are the two shapes (either may be
     * null); {@code extra} is the extra tensor-sized transfer SN and BCN are allowed.
     */
    private static void norm(List<OpCase> c, String op, int[] fits, int[] streams, double extra, NormFactory f) {
        for (int[] dims : new int[][] {fits, streams}) {
            if (dims == null) {
                continue;
            }
            boolean fit = dims == fits;
            c.add(new OpCase(op, dims, fit, 2, 3, (fit ? 2 : 3) + extra, (fit ? 3 : 5) + extra, 2, true, (d, t) -> {
                Module layer = f.create(d, t, dims);
                layer.train(true);
                return setup(x(d, t, dims), layer::forward, layer.parameters(),
                        new ArrayList<>(layer.namedBuffers().values()), layer);
            }));
        }
    }

    private static OpCase plain(String op, int[] dims, double fwdMin, double bwdMin, boolean vec,
                                BiFunction<Device, DType, OpCase.Setup> s) {
        return new OpCase(op, dims, null, fwdMin, bwdMin, fwdMin, bwdMin, 0, vec, s);
    }

    private static OpCase info(String op, int[] dims, int fwdLaunches, BiFunction<Device, DType, OpCase.Setup> s) {
        return new OpCase(op, dims, null, Double.NaN, Double.NaN, Double.NaN, Double.NaN, fwdLaunches, false, s);
    }

    private static Tensor x(Device d, DType t, int... dims) {
        return Tensor.randn(new Rng(1), Shape.of(dims), t, d).requiresGrad(true);
    }

    private static OpCase.Setup setup(Tensor x, Function<Tensor, Tensor> fn, List<Tensor> params, List<Tensor> state,
                                      AutoCloseable owner) {
        return new OpCase.Setup(x, fn, params, state, owner);
    }
}
