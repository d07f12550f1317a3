package io.jnorm.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

class ModuleStateTest {

    @Test
    void keysFollowPyTorchOrderOwnParamsThenOwnBuffersThenChildren() {
        try (TestLayers.Block b = new TestLayers.Block(DType.F64, 1)) {
            List<String> stats = List.of("scale", "shift", "running_mean", "moving_var", "num_batches_tracked");
            List<String> expected = new ArrayList<>(List.of("gain", "mask"));
            stats.forEach(s -> expected.add("inner." + s));
            stats.forEach(s -> expected.add("tail.0." + s));
            assertEquals(expected, new ArrayList<>(b.stateDict().keySet()));
            assertEquals(List.of("inner.num_batches_tracked", "tail.0.num_batches_tracked"),
                    new ArrayList<>(b.integerStateKeys()));
            assertEquals(List.of("", "inner", "tail", "tail.0", "tail.1"), new ArrayList<>(b.namedModules().keySet()));
            assertSame(b.children().get("inner").parameter("scale"), b.stateDict().get("inner.scale"));
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void loadCopiesValuesIntoTheExistingTensors(DType dtype) {
        try (TestLayers.Block src = new TestLayers.Block(dtype, 10); TestLayers.Block dst = new TestLayers.Block(dtype, 20)) {
            Map<String, Tensor> before = new LinkedHashMap<>(dst.stateDict());
            StateDictKeys keys = dst.loadStateDict(src.stateDict());
            assertTrue(keys.isEmpty());
            Map<String, Tensor> after = dst.stateDict();
            for (String k : before.keySet()) {
                assertSame(before.get(k), after.get(k), k + " must be the same tensor after a load");
                assertArrayEquals(src.stateDict().get(k).toDoubleArray(), after.get(k).toDoubleArray(), 0.0, k);
            }
            assertTrue(dst.parameter("gain").requiresGrad(), "a loaded parameter stays trainable");
            assertNotEquals(src.parameter("gain"), dst.parameter("gain"));
        }
    }

    @Test
    void strictLoadListsMissingAndUnexpectedKeys() {
        try (TestLayers.Block m = new TestLayers.Block(DType.F32, 1)) {
            Map<String, Tensor> state = new LinkedHashMap<>(m.stateDict());
            state.remove("inner.shift");
            state.remove("tail.0.running_mean");
            state.put("tail.2.weight", Tensor.zeros(DType.F32, 3));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(state));
            String msg = e.getMessage();
            assertTrue(msg.startsWith("Error(s) in loading state_dict for Block:"), msg);
            assertTrue(msg.contains("Missing key(s) in state_dict: \"inner.shift\", \"tail.0.running_mean\"."), msg);
            assertTrue(msg.contains("Unexpected key(s) in state_dict: \"tail.2.weight\"."), msg);
        }
    }

    @Test
    void nonStrictLoadReturnsTheMismatchedNamesAndLoadsTheRest() {
        try (TestLayers.Stats m = new TestLayers.Stats(3, DType.F64, 1); TestLayers.Stats src = new TestLayers.Stats(3, DType.F64, 2)) {
            double[] oldShift = m.parameter("shift").toDoubleArray();
            Map<String, Tensor> state = new LinkedHashMap<>(src.stateDict());
            state.remove("shift");
            state.put("extra", Tensor.zeros(DType.F64, 1));
            StateDictKeys keys = m.loadStateDict(state, false);
            assertEquals(List.of("shift"), keys.missing());
            assertEquals(List.of("extra"), keys.unexpected());
            assertArrayEquals(src.parameter("scale").toDoubleArray(), m.parameter("scale").toDoubleArray(), 0.0);
            assertArrayEquals(oldShift, m.parameter("shift").toDoubleArray(), 0.0);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void sizeMismatchNamesTheKeyAndBothShapesEvenWhenNotStrict(boolean strict) {
        try (TestLayers.Stats m = new TestLayers.Stats(4, DType.F32, 1); TestLayers.Stats other = new TestLayers.Stats(3, DType.F32, 2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.loadStateDict(other.stateDict(), strict));
            String msg = e.getMessage();
            assertTrue(msg.contains("size mismatch for scale: copying a param with shape [3] from checkpoint, "
                    + "the shape in current model is [4]."), msg);
            assertTrue(msg.contains("size mismatch for running_mean: copying a buffer with shape [3]"), msg);
            assertFalse(msg.contains("num_batches_tracked"), "matching entries are not reported: " + msg);
        }
    }

    @Test
    void dtypeMismatchIsAnError() {
        try (TestLayers.Stats m = new TestLayers.Stats(3, DType.F32, 1); TestLayers.Stats other = new TestLayers.Stats(3, DType.F64, 2)) {
            String msg = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(other.stateDict())).getMessage();
            assertTrue(msg.contains("dtype mismatch for scale: copying a param of dtype float64 from checkpoint, "
                    + "the dtype in current model is float32."), msg);
        }
    }

    @ParameterizedTest
    @ValueSource(doubles = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY})
    void nonFiniteRunningStatisticIsRejectedNamingLayerAndBufferAndNothingIsCopied(double bad) {
        try (TestLayers.Block m = new TestLayers.Block(DType.F32, 1); TestLayers.Block src = new TestLayers.Block(DType.F32, 5)) {
            Map<String, Tensor> state = new LinkedHashMap<>(src.stateDict());
            double[] v = state.get("tail.0.running_mean").toDoubleArray();
            v[2] = bad;
            state.put("tail.0.running_mean", Tensor.fromDoubles(v, Shape.of(3), DType.F32, Device.CPU));
            double[] gainBefore = m.parameter("gain").toDoubleArray();
            String msg = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(state)).getMessage();
            assertTrue(msg.contains("layer 'tail.0' (Stats) buffer 'running_mean' holds " + bad + " at flat index 2"), msg);
            assertArrayEquals(gainBefore, m.parameter("gain").toDoubleArray(), 0.0, "a failed load must change nothing");
        }
    }

    @Test
    void movingStatisticsAreCheckedAndOtherBuffersAreNot() {
        try (TestLayers.Block m = new TestLayers.Block(DType.F64, 1); TestLayers.Block src = new TestLayers.Block(DType.F64, 5)) {
            Map<String, Tensor> state = new LinkedHashMap<>(src.stateDict());
            state.put("inner.moving_var", Tensor.of(new double[] {1, Double.NaN, 1}, 3));
            String msg = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(state)).getMessage();
            assertTrue(msg.contains("layer 'inner' (Stats) buffer 'moving_var' holds NaN"), msg);

            // "mask" is not a running statistic: NaN there is the layer's business, not the loader's
            state.put("inner.moving_var", src.stateDict().get("inner.moving_var"));
            state.put("mask", Tensor.of(new double[] {Double.NaN, 0, 1}, 3));
            m.loadStateDict(state);
            assertTrue(Double.isNaN(m.buffer("mask").get(0)));
        }
    }

    @Test
    void layerHookCanRejectABufferAndTheMessageNamesTheLayer() {
        try (TestLayers.Block m = new TestLayers.Block(DType.F64, 1); TestLayers.Block src = new TestLayers.Block(DType.F64, 5)) {
            ((TestLayers.Stats) m.children().get("inner")).rejectReason = "variance must be positive";
            String msg = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(src.stateDict())).getMessage();
            assertTrue(msg.contains("invalid value for inner.moving_var: layer 'inner' (Stats) rejected buffer "
                    + "'moving_var': variance must be positive"), msg);
        }
    }

    @Test
    void integerCountersMustHoldWholeNumbersAndBeFloat64() {
        try (TestLayers.Stats m = new TestLayers.Stats(3, DType.F32, 1); TestLayers.Stats src = new TestLayers.Stats(3, DType.F32, 2)) {
            Map<String, Tensor> state = new LinkedHashMap<>(src.stateDict());
            state.put("num_batches_tracked", Tensor.scalar(2.5, DType.F64, Device.CPU));
            String msg = assertThrows(IllegalArgumentException.class, () -> m.loadStateDict(state)).getMessage();
            assertTrue(msg.contains("non-integer value for num_batches_tracked: layer Stats (root) counter "
                    + "'num_batches_tracked' holds 2.5"), msg);
            assertTrue(m.isIntegerBuffer("num_batches_tracked"));
            String typeMsg = assertThrows(IllegalArgumentException.class,
                    () -> m.setBuffer("num_batches_tracked", Tensor.scalar(1, DType.F32, Device.CPU))).getMessage();
            assertTrue(typeMsg.contains("integer buffer 'num_batches_tracked' must be float64"), typeMsg);
        }
    }

    @Test
    void loadingOwnStateIsANoOp() {
        try (TestLayers.Block m = new TestLayers.Block(DType.F32, 3)) {
            double[] before = m.stateDict().get("inner.running_mean").toDoubleArray();
            m.loadStateDict(m.stateDict());
            assertArrayEquals(before, m.stateDict().get("inner.running_mean").toDoubleArray(), 0.0);
        }
    }

    @Test
    void trainAndEvalReachEveryDescendant() {
        try (TestLayers.Block m = new TestLayers.Block(DType.F32, 3)) {
            m.eval();
            m.namedModules().forEach((k, mod) -> assertFalse(mod.isTraining(), "'" + k + "' still training"));
            m.children().get("tail").train();
            assertFalse(m.isTraining());
            assertTrue(((Sequential) m.children().get("tail")).get(1).isTraining());
            m.train(true);
            m.namedModules().forEach((k, mod) -> assertTrue(mod.isTraining(), "'" + k + "' still in eval"));
        }
    }

    @Test
    void registrationRejectsBadNames() {
        Module m = new Sequential();
        assertThrows(IllegalArgumentException.class, () -> m.registerParameter("a.b", Tensor.zeros(DType.F32, 1)));
        assertThrows(IllegalArgumentException.class, () -> m.registerBuffer("", Tensor.zeros(DType.F32, 1)));
        m.registerBuffer("x", Tensor.zeros(DType.F32, 1));
        String msg = assertThrows(IllegalArgumentException.class,
                () -> m.registerParameter("x", Tensor.zeros(DType.F32, 1))).getMessage();
        assertTrue(msg.contains("'x' registered twice"), msg);
        m.close();
    }
}
