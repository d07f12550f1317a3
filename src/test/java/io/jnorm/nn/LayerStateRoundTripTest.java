package io.jnorm.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jnorm.autograd.GradMode;
import io.jnorm.ops.Ops;
import io.jnorm.optim.SGD;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every layer's state survives a save and a load exactly: after a few training steps (so
 * running statistics, counters, gate state and batch-average sums hold non-trivial values) the
 * state goes to a .npz and to a folder of .npy files, is loaded into a freshly built layer, and
 * every parameter and buffer must then match bit for bit, as must the next training-mode and
 * evaluation-mode outputs.
 */
class LayerStateRoundTripTest {
    private static final int STEPS = 3;

    @TempDir
    Path tmp;

    /** A layer to check: how to build it (dtype, seed) and the input shape it takes. */
    record Layer(String name, BiFunction<DType, Long, Module> factory, int[] input) {
        Module build(DType dtype, long seed) {
            return factory.apply(dtype, seed);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static List<Layer> layers() {
        List<Layer> l = new ArrayList<>();
        l.add(new Layer("BatchNorm1d", (t, s) -> new BatchNorm1d(4, 1e-5, 0.1, true, true, t, Device.CPU),
                new int[] {6, 4}));
        l.add(new Layer("BatchNorm2d", (t, s) -> new BatchNorm2d(3, 1e-5, 0.1, true, true, t, Device.CPU),
                new int[] {2, 3, 4, 4}));
        l.add(new Layer("BatchNorm2d cumulative", (t, s) -> new BatchNorm2d(3, 1e-5, null, true, true, t, Device.CPU),
                new int[] {2, 3, 4, 4}));
        l.add(new Layer("GroupNorm", (t, s) -> new GroupNorm(2, 4, 1e-5, true, t, Device.CPU),
                new int[] {2, 4, 3, 3}));
        l.add(new Layer("LayerNorm", (t, s) -> new LayerNorm(new int[] {3, 4}, 1e-5, true, t, Device.CPU),
                new int[] {2, 5, 3, 4}));
        l.add(new Layer("InstanceNorm2d affine tracked",
                (t, s) -> new InstanceNorm2d(3, 1e-5, 0.1, true, true, t, Device.CPU), new int[] {2, 3, 4, 4}));
        l.add(new Layer("Conv2d ws OFFICIAL", (t, s) -> Conv2d.builder(3, 4, 3).padding(1).ws(WsPreset.OFFICIAL)
                .rng(new Rng(s)).dtype(t).build(), new int[] {2, 3, 5, 5}));
        l.add(new Layer("Conv2d ws BIASED", (t, s) -> Conv2d.builder(4, 2, 1).bias(false).ws(WsPreset.BIASED)
                .rng(new Rng(s)).dtype(t).build(), new int[] {2, 4, 3, 3}));
        l.add(new Layer("BatchChannelNorm2d bn", (t, s) -> BatchChannelNorm2d.builder(4).groups(2).dtype(t).build(),
                new int[] {2, 4, 3, 3}));
        l.add(new Layer("BatchChannelNorm2d estimate", (t, s) -> BatchChannelNorm2d.builder(4).groups(2)
                .estimate(true).rate(0.3).dtype(t).build(), new int[] {1, 4, 3, 3}));
        l.add(new Layer("BatchRenorm2d", (t, s) -> BatchRenorm2d.builder(3).momentum(0.2)
                .schedule(RenormSchedule.fixed(1.5, 0.5)).dtype(t).build(), new int[] {2, 3, 3, 3}));
        l.add(new Layer("SwitchableNorm2d", (t, s) -> SwitchableNorm2d.builder(3).dtype(t).build(),
                new int[] {2, 3, 3, 3}));
        l.add(new Layer("SwitchableNorm2d batch average",
                (t, s) -> SwitchableNorm2d.builder(3).movingAverage(false).dtype(t).build(), new int[] {2, 3, 3, 3}));
        l.add(new Layer("SwitchableNorm2d IN+LN", (t, s) -> SwitchableNorm2d.builder(3).usingBn(false).dtype(t)
                .build(), new int[] {2, 3, 3, 3}));
        l.add(new Layer("UnifiedBatchNorm2d", (t, s) -> UnifiedBatchNorm2d.builder(3).bound(0.05).rng(new Rng(s))
                .dtype(t).build(), new int[] {4, 3, 3, 3}));
        // A high bound closes the gate once the similarity falls, so the loaded layer must resume closed.
        l.add(new Layer("UnifiedBatchNorm2d gate closing", (t, s) -> UnifiedBatchNorm2d.builder(3).bound(0.9)
                .momentumCos(0.5).rng(new Rng(s)).dtype(t).build(), new int[] {4, 3, 3, 3}));
        l.add(new Layer("Linear", (t, s) -> new Linear(5, 3, true, t, Device.CPU, new Rng(s)), new int[] {4, 5}));
        l.add(new Layer("Sequential", (t, s) -> {
            Rng rng = new Rng(s);
            return new Sequential(Conv2d.builder(3, 4, 3).padding(1).ws().rng(rng).dtype(t).build(),
                    new GroupNorm(2, 4, 1e-5, true, t, Device.CPU), new ReLU(),
                    new BatchNorm2d(4, 1e-5, 0.1, true, true, t, Device.CPU), new MaxPool2d(2),
                    new Flatten(), new Linear(16, 3, true, t, Device.CPU, rng));
        }, new int[] {2, 3, 4, 4}));
        return l;
    }

    static Stream<Arguments> layersAndDtypes() {
        return layers().stream().flatMap(l -> Stream.of(Arguments.of(l, DType.F32), Arguments.of(l, DType.F64)));
    }

    static Stream<Layer> layersWithBuffers() {
        return layers().stream().filter(l -> {
            try (Module m = l.build(DType.F64, 1)) {
                return !m.namedBuffers().isEmpty();
            }
        });
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("layersAndDtypes")
    void saveAndLoadRoundTripEveryParameterAndBufferExactly(Layer layer, DType dtype) {
        try (Module trained = layer.build(dtype, 1);
             Module fromNpz = layer.build(dtype, 2);
             Module fromDir = layer.build(dtype, 3)) {
            train(trained, layer, dtype);
            assertFalse(sameBits(trained.stateDict(), fromNpz.stateDict()),
                    layer + ": a fresh layer already equals the trained one, so the round trip proves nothing");

            trained.save(tmp.resolve("state.npz"));
            trained.saveNpyDir(tmp.resolve("state"));
            assertTrue(fromNpz.load(tmp.resolve("state.npz")).isEmpty());
            assertTrue(fromDir.loadNpyDir(tmp.resolve("state")).isEmpty());
            if (trained instanceof UnifiedBatchNorm2d ubn) {
                assertEquals(layer.name().endsWith("closing"), !ubn.gateOpen(), layer + ": gate state after training");
                assertEquals(ubn.gateOpen(), ((UnifiedBatchNorm2d) fromNpz).gateOpen(), layer + ": gate after load");
            }
            assertSameState(layer + " via .npz", trained, fromNpz);
            assertSameState(layer + " via .npy folder", trained, fromDir);

            Rng rng = new Rng(99);
            for (boolean training : new boolean[] {true, false}) {
                trained.train(training);
                fromNpz.train(training);
                fromDir.train(training);
                try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
                    Tensor x = Tensor.randn(rng, Shape.of(layer.input()), dtype, Device.CPU);
                    double[] expected = trained.forward(x).toDoubleArray();
                    String mode = training ? " train" : " eval";
                    assertSameBits(layer + mode + " output after .npz load", expected, fromNpz.forward(x).toDoubleArray());
                    assertSameBits(layer + mode + " output after .npy load", expected, fromDir.forward(x).toDoubleArray());
                }
                assertSameState(layer + " after the next forward via .npz", trained, fromNpz);
                assertSameState(layer + " after the next forward via .npy folder", trained, fromDir);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layersWithBuffers")
    void aStateDictTakenBeforeTrainingReadsTheCurrentState(Layer layer) {
        try (Module m = layer.build(DType.F64, 1)) {
            Map<String, Tensor> early = m.stateDict();
            Map<String, double[]> initial = new LinkedHashMap<>();
            early.forEach((k, v) -> initial.put(k, v.toDoubleArray()));
            train(m, layer, DType.F64);
            Map<String, Tensor> now = m.stateDict();
            assertEquals(List.copyOf(now.keySet()), List.copyOf(early.keySet()));
            boolean someBufferMoved = false;
            for (String k : m.namedBuffers().keySet()) {
                Tensor t = early.get(k);
                assertFalse(t.isClosed(), layer + ": buffer " + k + " of the early state dict was freed by training");
                assertSame(now.get(k), t, layer + ": buffer " + k + " is no longer the tensor the early state dict holds");
                someBufferMoved |= !sameBits(initial.get(k), t.toDoubleArray());
            }
            assertTrue(someBufferMoved, layer + ": training moved no buffer, so the test shows nothing");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layersWithBuffers")
    void aNanInAnyBufferIsRejectedOnLoadNamingLayerAndBufferAndNothingIsCopied(Layer layer) {
        try (Module m = layer.build(DType.F64, 1); Module source = layer.build(DType.F64, 2)) {
            train(source, layer, DType.F64);
            Map<String, double[]> before = new LinkedHashMap<>();
            m.stateDict().forEach((k, v) -> before.put(k, v.toDoubleArray()));
            for (String key : m.namedBuffers().keySet()) {
                try (Scope scope = Scope.open()) {
                    Map<String, Tensor> state = new LinkedHashMap<>();
                    source.stateDict().forEach((k, v) -> state.put(k, Ops.copy(v)));
                    Tensor good = state.get(key);
                    double[] values = good.toDoubleArray();
                    values[values.length - 1] = Double.NaN;
                    state.put(key, Tensor.fromDoubles(values, good.shape(), good.dtype(), Device.CPU));
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(state));
                    String owner = key.contains(".") ? key.substring(0, key.lastIndexOf('.')) : "";
                    String local = key.substring(key.lastIndexOf('.') + 1);
                    assertTrue(e.getMessage().contains(key) && e.getMessage().contains(local)
                            && e.getMessage().contains("NaN") && e.getMessage().contains(owner.isEmpty()
                            ? m.getClass().getSimpleName() : "'" + owner + "'"), layer + " " + key + ": " + e.getMessage());
                }
                m.stateDict().forEach((k, v) -> assertSameBits(layer + ": " + k + " after the rejected load",
                        before.get(k), v.toDoubleArray()));
            }
        }
    }

    /** A few SGD steps on a fixed random projection of the output; batch-average SN is finalized. */
    private static void train(Module m, Layer layer, DType dtype) {
        Rng rng = new Rng(7);
        m.train();
        try (SGD opt = new SGD(m.parameters(), 0.05, 0.9, 0, 0, false)) {
            for (int step = 0; step < STEPS; step++) {
                try (Scope scope = Scope.open()) {
                    Tensor x = Tensor.randn(rng, Shape.of(layer.input()), dtype, Device.CPU);
                    Tensor y = m.forward(x);
                    Tensor w = Tensor.randn(rng, y.shape(), dtype, Device.CPU);
                    Ops.sum(Ops.mul(y, w)).backward();
                    opt.step();
                    opt.zeroGrad();
                }
            }
        }
        if (m instanceof SwitchableNorm2d sn && sn.usingBn() && !sn.movingAverage()) {
            sn.finalizeBatchAverage();
            // One more batch after finalizing, so the sums and the running statistics differ.
            try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
                m.forward(Tensor.randn(rng, Shape.of(layer.input()), dtype, Device.CPU));
            }
        }
    }

    private static void assertSameState(String what, Module expected, Module actual) {
        Map<String, Tensor> e = expected.stateDict();
        Map<String, Tensor> a = actual.stateDict();
        assertEquals(List.copyOf(e.keySet()), List.copyOf(a.keySet()), what + ": keys");
        for (String k : e.keySet()) {
            assertEquals(e.get(k).dtype(), a.get(k).dtype(), what + ": dtype of " + k);
            assertEquals(e.get(k).shape(), a.get(k).shape(), what + ": shape of " + k);
            assertSameBits(what + ": " + k, e.get(k).toDoubleArray(), a.get(k).toDoubleArray());
        }
    }

    private static boolean sameBits(Map<String, Tensor> a, Map<String, Tensor> b) {
        for (String k : a.keySet()) {
            if (!sameBits(a.get(k).toDoubleArray(), b.get(k).toDoubleArray())) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameBits(double[] a, double[] b) {
        if (a.length != b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (Double.doubleToRawLongBits(a[i]) != Double.doubleToRawLongBits(b[i])) {
                return false;
            }
        }
        return true;
    }

    /** float32 values widen to double exactly, so comparing the double bits compares the stored bits. */
    private static void assertSameBits(String what, double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Double.doubleToRawLongBits(expected[i]) != Double.doubleToRawLongBits(actual[i])) {
                fail(what + ": first difference at flat index " + i + ": expected " + expected[i] + ", got "
                        + actual[i] + " (|diff| " + Math.abs(expected[i] - actual[i]) + ")");
            }
        }
    }
}
