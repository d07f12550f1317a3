package io.jnorm.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.backend.Backend;
import io.jnorm.backend.BatchChannelNormKernels;
import io.jnorm.backend.BatchRenormKernels;
import io.jnorm.backend.Backends;
import io.jnorm.backend.ConvKernels;
import io.jnorm.backend.ElementwiseKernels;
import io.jnorm.backend.LinalgKernels;
import io.jnorm.backend.LossKernels;
import io.jnorm.backend.NormKernels;
import io.jnorm.backend.PoolKernels;
import io.jnorm.backend.ReductionKernels;
import io.jnorm.backend.ShapeKernels;
import io.jnorm.backend.SwitchableNormKernels;
import io.jnorm.backend.UnifiedBatchNormKernels;
import io.jnorm.backend.WeightStandardizationKernels;
import io.jnorm.nn.BatchNorm2d;
import io.jnorm.nn.BatchRenorm2d;
import io.jnorm.nn.GroupNorm;
import io.jnorm.nn.LayerNorm;
import io.jnorm.nn.SwitchableNorm2d;
import io.jnorm.nn.UnifiedBatchNorm2d;
import io.jnorm.ops.norm.BatchRenormOp;
import io.jnorm.ops.norm.NormOps;
import io.jnorm.ops.norm.SwitchableNormOps;
import io.jnorm.tensor.Buffer;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Tensors on two devices never meet in one op: every op and layer rejects the mix with a message
 * naming the op or layer, the shapes and both devices, before any kernel runs. The second device
 * is a host-memory stand-in with no kernels at all, so a check that let the mix through would
 * fail here with something other than an IllegalArgumentException.
 */
class DeviceMismatchTest {
    /** A device index no machine has, so the stand-in cannot shadow a real backend. */
    static final Device OTHER = Device.cuda(977);

    static {
        Backends.register(new HostOnlyBackend(OTHER));
    }

    private static Tensor cpu(int... dims) {
        return Tensor.ones(DType.F64, dims);
    }

    private static Tensor other(int... dims) {
        return Tensor.full(1.0, Shape.of(dims), DType.F64, OTHER);
    }

    private static Arguments c(String name, Executable call, String... fragments) {
        return Arguments.of(name, call, fragments);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                c("add", () -> Ops.add(cpu(2, 3), other(2, 3)), "add", "[2, 3]"),
                c("mul broadcast", () -> Ops.mul(other(2, 3), cpu(3)), "mul", "[3]"),
                c("matmul", () -> Ops.matmul(cpu(2, 3), other(3, 4)), "matmul", "[3, 4]"),
                c("linear bias", () -> Ops.linear(cpu(2, 3), cpu(4, 3), other(4)), "linear", "bias", "[4]"),
                c("conv2d weight", () -> Ops.conv2d(cpu(1, 2, 4, 4), other(3, 2, 3, 3), null, 1, 0), "conv2d",
                        "weight", "[3, 2, 3, 3]"),
                c("concat", () -> Ops.concat(0, cpu(2, 3), other(1, 3)), "concat", "[1, 3]"),
                c("batchNorm weight", () -> NormOps.batchNorm(cpu(2, 3, 2), null, null, other(3), null, true, 0.1,
                        1e-5), "batchNorm", "weight"),
                c("layerNorm bias", () -> NormOps.layerNorm(cpu(2, 4), new int[] {4}, null, other(4), 1e-5),
                        "layerNorm", "bias"),
                c("switchableNorm2d logits", () -> SwitchableNormOps.switchableNorm2d(cpu(2, 3, 2, 2),
                        cpu(3), other(3), cpu(3), cpu(3), null, null, true, 1e-5), "switchableNorm2d", "varLogits"),
                c("batchRenorm gamma", () -> BatchRenormOp.eval(cpu(2, 3, 2, 2), other(3), null, cpu(3), cpu(3), 1e-5),
                        "batchRenorm", "gamma"),
                c("BatchNorm2d layer", () -> new BatchNorm2d(3, DType.F64, Device.CPU).forward(other(2, 3, 2, 2)),
                        "BatchNorm2d(3)", "[2, 3, 2, 2]"),
                c("GroupNorm layer", () -> new GroupNorm(1, 3, 1e-5, true, DType.F64, Device.CPU)
                        .forward(other(2, 3, 2)), "GroupNorm(1, 3)", "[2, 3, 2]"),
                c("LayerNorm layer", () -> new LayerNorm(new int[] {4}, 1e-5, true, DType.F64, Device.CPU)
                        .forward(other(2, 4)), "LayerNorm([4])", "[2, 4]"),
                c("BatchRenorm2d layer", () -> BatchRenorm2d.builder(3).dtype(DType.F64).build()
                        .forward(other(2, 3, 2, 2)), "BatchRenorm2d(3", "[2, 3, 2, 2]"),
                c("SwitchableNorm2d layer", () -> SwitchableNorm2d.builder(3).dtype(DType.F64).build()
                        .forward(other(2, 3, 2, 2)), "SwitchableNorm2d", "[2, 3, 2, 2]"),
                c("UnifiedBatchNorm2d layer", () -> UnifiedBatchNorm2d.builder(3).dtype(DType.F64).build()
                        .forward(other(2, 3, 2, 2)), "UnifiedBatchNorm2d", "[2, 3, 2, 2]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void mixingDevicesIsRejectedNamingTheOpShapesAndDevices(String name, Executable call, String[] fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, name);
        String m = e.getMessage();
        for (String f : fragments) {
            assertTrue(m.contains(f), name + ": message lacks \"" + f + "\": " + m);
        }
        assertTrue(m.contains(Device.CPU.toString()) && m.contains(OTHER.toString()),
                name + ": message must name both devices: " + m);
    }

    /** Memory on a pretend device; no kernels (an op must reject the mix before it needs one). */
    private static final class HostOnlyBackend implements Backend {
        private final Device device;

        HostOnlyBackend(Device device) {
            this.device = device;
        }

        private final class HostBuffer extends Buffer {
            final double[] values;

            HostBuffer(DType dtype, double[] values) {
                super(device, dtype, values.length);
                this.values = values;
            }

            @Override
            protected void freeMemory() {
            }
        }

        @Override
        public Device device() {
            return device;
        }

        @Override
        public Buffer allocate(DType dtype, long numel) {
            return new HostBuffer(dtype, new double[(int) numel]);
        }

        @Override
        public Buffer fromHost(DType dtype, double[] values) {
            return new HostBuffer(dtype, values.clone());
        }

        @Override
        public double[] toHost(Buffer buffer) {
            return ((HostBuffer) buffer).values.clone();
        }

        @Override
        public void copy(Tensor src, Tensor dst) {
            throw new UnsupportedOperationException("no kernels on " + device);
        }

        private static UnsupportedOperationException none() {
            return new UnsupportedOperationException("the stand-in device has no kernels");
        }

        @Override
        public ElementwiseKernels elementwise() {
            throw none();
        }

        @Override
        public ReductionKernels reductions() {
            throw none();
        }

        @Override
        public ShapeKernels shapes() {
            throw none();
        }

        @Override
        public LinalgKernels linalg() {
            throw none();
        }

        @Override
        public ConvKernels conv() {
            throw none();
        }

        @Override
        public PoolKernels pool() {
            throw none();
        }

        @Override
        public LossKernels loss() {
            throw none();
        }

        @Override
        public NormKernels norms() {
            throw none();
        }

        @Override
        public WeightStandardizationKernels weightStandardization() {
            throw none();
        }

        @Override
        public BatchChannelNormKernels batchChannelNorm() {
            throw none();
        }

        @Override
        public BatchRenormKernels batchRenorm() {
            throw none();
        }

        @Override
        public SwitchableNormKernels switchableNorm() {
            throw none();
        }

        @Override
        public UnifiedBatchNormKernels unifiedBatchNorm() {
            throw none();
        }
    }
}
