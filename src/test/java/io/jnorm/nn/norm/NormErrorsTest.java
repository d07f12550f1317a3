package io.jnorm.nn.norm;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.nn.BatchNorm1d;
import io.jnorm.nn.BatchNorm2d;
import io.jnorm.nn.GroupNorm;
import io.jnorm.nn.InstanceNorm2d;
import io.jnorm.nn.LayerNorm;
import io.jnorm.ops.norm.NormOps;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad input: an IllegalArgumentException whose message names the layer or op and the values. */
class NormErrorsTest {
    private static final Device CPU = Device.CPU;

    private static Tensor x(int... dims) {
        return Tensor.zeros(DType.F64, dims);
    }

    private static Tensor f32(int... dims) {
        return Tensor.zeros(DType.F32, dims);
    }

    private static Arguments c(String name, Executable call, String... fragments) {
        return Arguments.of(name, call, fragments);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                c("bn2d rank", () -> new BatchNorm2d(3, DType.F64, CPU).forward(x(2, 3, 4)),
                        "BatchNorm2d(3)", "expected 4D input", "3D", "[2, 3, 4]"),
                c("bn1d rank", () -> new BatchNorm1d(3, DType.F64, CPU).forward(x(2, 3, 4, 4)),
                        "BatchNorm1d(3)", "2D", "3D", "[2, 3, 4, 4]"),
                c("bn channels", () -> new BatchNorm2d(3, DType.F64, CPU).forward(x(2, 5, 2, 2)),
                        "BatchNorm2d(3)", "expected 3 channels", "[2, 5, 2, 2]"),
                c("bn dtype", () -> new BatchNorm2d(3, DType.F64, CPU).forward(f32(2, 3, 2, 2)),
                        "BatchNorm2d(3)", "F32", "F64"),
                c("bn one value per channel", () -> new BatchNorm1d(4, DType.F64, CPU).forward(x(1, 4)),
                        "BatchNorm1d(4)", "more than 1 value per channel", "[1, 4]"),
                c("bn untracked eval one value", () -> {
                    BatchNorm2d bn = new BatchNorm2d(3, 1e-5, 0.1, true, false, DType.F64, CPU);
                    bn.eval();
                    bn.forward(x(1, 3, 1, 1));
                }, "BatchNorm2d(3)", "more than 1 value per channel", "[1, 3, 1, 1]"),
                c("bn numFeatures", () -> new BatchNorm2d(0), "BatchNorm2d(0)", "numFeatures", "0"),
                c("bn eps zero", () -> new BatchNorm2d(3, 0.0, 0.1, true, true, DType.F32, CPU),
                        "BatchNorm2d(3)", "eps", "0.0"),
                c("bn eps NaN", () -> new BatchNorm2d(3, Double.NaN, 0.1, true, true, DType.F32, CPU),
                        "BatchNorm2d(3)", "eps", "NaN"),
                c("bn momentum NaN", () -> new BatchNorm2d(3, 1e-5, Double.NaN, true, true, DType.F32, CPU),
                        "BatchNorm2d(3)", "momentum", "NaN"),
                c("gn divisible", () -> new GroupNorm(3, 4), "GroupNorm(3, 4)", "divisible", "4", "3"),
                c("gn channels", () -> new GroupNorm(2, 4, 1e-5, true, DType.F64, CPU).forward(x(2, 6, 3)),
                        "GroupNorm(2, 4)", "expected 4 channels", "[2, 6, 3]"),
                c("gn rank", () -> new GroupNorm(1, 4, 1e-5, true, DType.F64, CPU).forward(x(4)),
                        "GroupNorm(1, 4)", "at least 2 dims", "[4]"),
                c("gn size", () -> new GroupNorm(4, 4, 1e-5, true, DType.F64, CPU).forward(x(1, 4, 1, 1)),
                        "GroupNorm(4, 4)", "more than 1 value", "[1, 4, 1, 1]"),
                c("ln trailing", () -> new LayerNorm(new int[] {4, 4}, 1e-5, true, DType.F64, CPU).forward(x(2, 5, 4, 3)),
                        "LayerNorm([4, 4])", "[*, 4, 4]", "[2, 5, 4, 3]"),
                c("ln short input", () -> new LayerNorm(new int[] {3, 4}, 1e-5, true, DType.F64, CPU).forward(x(4)),
                        "LayerNorm([3, 4])", "[4]"),
                c("ln empty shape", () -> new LayerNorm(new int[0], 1e-5, true, DType.F64, CPU),
                        "LayerNorm", "normalizedShape"),
                c("in channels", () -> new InstanceNorm2d(3, DType.F64, CPU).forward(x(2, 5, 2, 2)),
                        "InstanceNorm2d(3)", "expected 3 channels", "[2, 5, 2, 2]"),
                c("in rank", () -> new InstanceNorm2d(3, DType.F64, CPU).forward(x(2, 3)),
                        "InstanceNorm2d(3)", "3D", "4D", "[2, 3]"),
                c("in spatial", () -> new InstanceNorm2d(3, DType.F64, CPU).forward(x(2, 3, 1, 1)),
                        "InstanceNorm2d(3)", "more than 1 spatial element", "[2, 3, 1, 1]"),
                c("in momentum null", () -> new InstanceNorm2d(3, 1e-5, null, false, true, DType.F64, CPU),
                        "InstanceNorm2d(3)", "momentum"),
                c("op weight shape", () -> NormOps.batchNorm(x(2, 3, 2), null, null, x(4), null, true, 0.1, 1e-5),
                        "batchNorm", "weight", "[3]", "[4]"),
                c("op weight dtype", () -> NormOps.batchNorm(x(2, 3, 2), null, null, f32(3), null, true, 0.1, 1e-5),
                        "batchNorm", "weight", "F32", "F64"),
                c("op running pair", () -> NormOps.batchNorm(x(2, 3, 2), x(3), null, null, null, true, 0.1, 1e-5),
                        "batchNorm", "runningVar"),
                c("op eval without stats", () -> NormOps.batchNorm(x(2, 3, 2), null, null, null, null, false, 0.1, 1e-5),
                        "batchNorm", "training=false", "[2, 3, 2]"),
                c("op gn groups", () -> NormOps.groupNorm(x(2, 4, 2), 0, null, null, 1e-5), "groupNorm", "num_groups", "0"),
                c("op ln weight", () -> NormOps.layerNorm(x(2, 3, 4), new int[] {3, 4}, x(12), null, 1e-5),
                        "layerNorm", "weight", "[3, 4]", "[12]"),
                c("op in rank", () -> NormOps.instanceNorm(x(2, 3), null, null, null, null, true, 0.1, 1e-5),
                        "instanceNorm", "[2, 3]"),
                c("op eps negative", () -> NormOps.groupNorm(x(2, 4, 2), 2, null, null, -1e-5), "groupNorm", "eps"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rejectsWithAClearMessage(String name, Executable call, String[] fragments) {
        try (Scope s = Scope.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call, name);
            for (String f : fragments) {
                assertTrue(e.getMessage().contains(f), name + ": message should contain '" + f + "': " + e.getMessage());
            }
        }
    }
}
