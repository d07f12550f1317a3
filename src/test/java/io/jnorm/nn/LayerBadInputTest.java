package io.jnorm.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every layer (float32 on the CPU) rejects an input of the wrong rank, the wrong channel count
 * and the wrong dtype with an IllegalArgumentException naming the layer and the input's shape,
 * and a rejected call changes none of its state.
 */
class LayerBadInputTest {

    /**
     * @param name   how the layer's messages name it
     * @param good   an input shape it accepts
     * @param rank   a shape of another rank
     * @param chans  a shape of the right rank with another channel (or feature) count
     */
    private static Arguments layer(String label, Supplier<Module> factory, String name, int[] good, int[] rank,
                                   int[] chans) {
        return Arguments.of(label, factory, name, good, rank, chans);
    }

    static Stream<Arguments> layers() {
        int[] nchw = {2, 4, 3, 3};
        int[] rank3 = {2, 4, 9};
        int[] chans = {2, 6, 3, 3};
        return Stream.of(
                layer("BatchNorm1d", () -> new BatchNorm1d(4), "BatchNorm1d(4)", new int[] {3, 4}, nchw,
                        new int[] {3, 5}),
                layer("BatchNorm2d", () -> new BatchNorm2d(4), "BatchNorm2d(4)", nchw, rank3, chans),
                layer("GroupNorm", () -> new GroupNorm(2, 4), "GroupNorm(2, 4)", nchw, new int[] {4}, chans),
                layer("LayerNorm", () -> new LayerNorm(4, 3, 3), "LayerNorm([4, 3, 3])", nchw, new int[] {3, 3}, chans),
                layer("InstanceNorm2d", () -> new InstanceNorm2d(4, 1e-5, 0.1, true, true, DType.F32, Device.CPU),
                        "InstanceNorm2d(4)", nchw, new int[] {2, 4}, chans),
                layer("Conv2d ws", () -> Conv2d.builder(4, 2, 3).ws().build(), "Conv2d(in=4", nchw, rank3, chans),
                layer("Linear", () -> new Linear(4, 2, new Rng(1)), "Linear(in=4", new int[] {3, 4}, new int[0],
                        new int[] {3, 5}),
                layer("BatchChannelNorm2d", () -> BatchChannelNorm2d.builder(4).groups(2).build(),
                        "BatchChannelNorm2d(4", nchw, rank3, chans),
                layer("BatchChannelNorm2d estimate", () -> BatchChannelNorm2d.builder(4).groups(2).estimate(true).build(),
                        "BatchChannelNorm2d(4", nchw, rank3, chans),
                layer("EstBatchNorm2d", () -> new EstBatchNorm2d(4, 1e-5, 0.1, DType.F32, Device.CPU),
                        "EstBatchNorm2d(4", nchw, rank3, chans),
                layer("BatchRenorm2d", () -> new BatchRenorm2d(4), "BatchRenorm2d(4", nchw, rank3, chans),
                layer("SwitchableNorm2d", () -> new SwitchableNorm2d(4), "SwitchableNorm2d", nchw, rank3, chans),
                layer("UnifiedBatchNorm2d", () -> new UnifiedBatchNorm2d(4), "UnifiedBatchNorm2d", nchw, rank3, chans));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void wrongRankChannelsOrDtypeIsRejectedNamingLayerAndShapeAndStateIsKept(String label, Supplier<Module> factory,
                                                                              String name, int[] good, int[] rank,
                                                                              int[] chans) {
        try (Module m = factory.get()) {
            Map<String, double[]> before = values(m);
            reject(m, Tensor.zeros(DType.F32, rank), name, Arrays.toString(rank));
            reject(m, Tensor.zeros(DType.F32, chans), name, Arrays.toString(chans));
            reject(m, Tensor.zeros(DType.F64, good), name, Arrays.toString(good), "F64", "F32");
            Map<String, double[]> after = values(m);
            before.forEach((k, v) -> assertArrayEquals(v, after.get(k), 0, label + ": " + k + " changed by a rejected call"));
            try (Tensor ok = Tensor.ones(DType.F32, good)) {
                m.forward(ok);
            }
        }
    }

    static Stream<Arguments> singleValuePerChannel() {
        return Stream.of(
                Arguments.of("BatchNorm1d", (Supplier<Module>) () -> new BatchNorm1d(4), "BatchNorm1d(4)",
                        new int[] {1, 4}),
                Arguments.of("BatchNorm2d", (Supplier<Module>) () -> new BatchNorm2d(4), "BatchNorm2d(4)",
                        new int[] {1, 4, 1, 1}),
                Arguments.of("BatchChannelNorm2d", (Supplier<Module>) () -> BatchChannelNorm2d.builder(4).groups(2)
                        .build(), "BatchChannelNorm2d(4", new int[] {1, 4, 1, 1}),
                Arguments.of("UnifiedBatchNorm2d", (Supplier<Module>) () -> new UnifiedBatchNorm2d(4),
                        "UnifiedBatchNorm2d", new int[] {1, 4, 1, 1}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("singleValuePerChannel")
    void oneValuePerChannelInBatchNormTrainingIsRejectedAndLeavesTheStateAlone(String label,
                                                                               Supplier<Module> factory, String name,
                                                                               int[] shape) {
        try (Module m = factory.get()) {
            Map<String, double[]> before = values(m);
            reject(m, Tensor.ones(DType.F32, shape), name, Arrays.toString(shape), "more than 1 value per channel");
            Map<String, double[]> after = values(m);
            before.forEach((k, v) -> assertArrayEquals(v, after.get(k), 0, label + ": " + k + " changed by a rejected call"));
        }
    }

    static Stream<Arguments> nonPositiveSizes() {
        return Stream.of(
                Arguments.of("BatchNorm1d(0)", (Supplier<Module>) () -> new BatchNorm1d(0), new String[] {"0"}),
                Arguments.of("BatchNorm2d(-2)", (Supplier<Module>) () -> new BatchNorm2d(-2), new String[] {"-2"}),
                Arguments.of("InstanceNorm2d(0)", (Supplier<Module>) () -> new InstanceNorm2d(0), new String[] {"0"}),
                Arguments.of("GroupNorm(0, 4)", (Supplier<Module>) () -> new GroupNorm(0, 4), new String[] {"0"}),
                Arguments.of("GroupNorm(2, -4)", (Supplier<Module>) () -> new GroupNorm(2, -4), new String[] {"-4"}),
                Arguments.of("LayerNorm([3, 0])", (Supplier<Module>) () -> new LayerNorm(3, 0), new String[] {"[3, 0]"}),
                Arguments.of("Conv2d(0, 4", (Supplier<Module>) () -> Conv2d.builder(0, 4, 3).build(),
                        new String[] {"in=0"}),
                Arguments.of("Conv2d(3, 4, 0", (Supplier<Module>) () -> Conv2d.builder(3, 4, 0).build(),
                        new String[] {"kernel=0x0"}),
                Arguments.of("Linear(0, 2", (Supplier<Module>) () -> new Linear(0, 2, new Rng(1)), new String[] {"in=0"}),
                Arguments.of("BatchChannelNorm2d(0)", (Supplier<Module>) () -> BatchChannelNorm2d.builder(0).groups(1).build(),
                        new String[] {"BatchChannelNorm2d(0"}),
                Arguments.of("BatchChannelNorm2d groups 0",
                        (Supplier<Module>) () -> BatchChannelNorm2d.builder(4).groups(0).build(), new String[] {"groups=0"}),
                Arguments.of("EstBatchNorm2d(0)", (Supplier<Module>) () -> new EstBatchNorm2d(0, 1e-5, 0.1, DType.F32,
                        Device.CPU), new String[] {"EstBatchNorm2d", "0"}),
                Arguments.of("BatchRenorm2d(0)", (Supplier<Module>) () -> new BatchRenorm2d(0),
                        new String[] {"BatchRenorm2d", "0"}),
                Arguments.of("SwitchableNorm2d(0)", (Supplier<Module>) () -> new SwitchableNorm2d(0),
                        new String[] {"SwitchableNorm2d", "0"}),
                Arguments.of("UnifiedBatchNorm2d(-1)", (Supplier<Module>) () -> new UnifiedBatchNorm2d(-1),
                        new String[] {"UnifiedBatchNorm2d", "-1"}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nonPositiveSizes")
    void zeroOrNegativeSizesAreRejectedNamingLayerAndValue(String label, Supplier<Module> factory, String[] fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, factory::get, label);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), label + ": message lacks \"" + f + "\": " + e.getMessage());
        }
        String layer = label.replaceAll("[( ].*", "");
        assertTrue(e.getMessage().contains(layer), label + ": message does not name the layer: " + e.getMessage());
    }

    @Test
    void buildersRejectANullDtypeOrDeviceNamingTheLayer() {
        for (LayerBuilder<?> b : List.of(Conv2d.builder(3, 4, 3), BatchChannelNorm2d.builder(4),
                BatchRenorm2d.builder(3), SwitchableNorm2d.builder(3), UnifiedBatchNorm2d.builder(3))) {
            String layer = b.getClass().getEnclosingClass().getSimpleName();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.dtype(null));
            assertTrue(e.getMessage().startsWith(layer + "(") && e.getMessage().contains("dtype"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> b.device(null));
            assertTrue(e.getMessage().startsWith(layer + "(") && e.getMessage().contains("device"), e.getMessage());
        }
    }

    private static void reject(Module m, Tensor x, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(x));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message lacks \"" + f + "\": " + e.getMessage());
        }
    }

    private static Map<String, double[]> values(Module m) {
        Map<String, double[]> out = new java.util.LinkedHashMap<>();
        m.stateDict().forEach((k, v) -> out.put(k, v.toDoubleArray()));
        return out;
    }
}
