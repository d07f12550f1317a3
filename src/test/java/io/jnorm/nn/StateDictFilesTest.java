package io.jnorm.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.io.Npy;
import io.jnorm.io.NpyArray;
import io.jnorm.io.NpyDType;
import io.jnorm.io.Npz;
import io.jnorm.optim.AdamW;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class StateDictFilesTest {
    @TempDir
    Path tmp;

    /** A model mixing every kind of entry: float params, running stats, an int64 counter. */
    private static Sequential model(DType dtype, long seed) {
        Rng rng = new Rng(seed);
        return new Sequential(new Linear(3, 4, true, dtype, Device.CPU, rng), new ReLU(),
                new TestLayers.Stats(4, dtype, seed + 100), new Linear(4, 2, false, dtype, Device.CPU, rng));
    }

    private static long[] bits(Tensor t) {
        double[] v = t.toDoubleArray();
        long[] b = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Double.doubleToRawLongBits(v[i]);
        }
        return b;
    }

    private static void assertSameBits(Module expected, Module actual) {
        Map<String, Tensor> e = expected.stateDict();
        Map<String, Tensor> a = actual.stateDict();
        assertEquals(List.copyOf(e.keySet()), List.copyOf(a.keySet()));
        for (String k : e.keySet()) {
            assertEquals(e.get(k).dtype(), a.get(k).dtype(), k);
            assertArrayEquals(bits(e.get(k)), bits(a.get(k)), k + " differs after the round trip");
        }
    }

    @ParameterizedTest
    @EnumSource(StateDictFiles.Format.class)
    void saveThenLoadIsBitExactForBothDtypes(StateDictFiles.Format format) {
        for (DType dtype : DType.values()) {
            try (Sequential src = model(dtype, 1); Sequential dst = model(dtype, 2)) {
                // a counter past float32's exact range, and values whose low bits matter
                ((TestLayers.Stats) src.get(2)).setCounter((1L << 40) + 3);
                assertNotEquals(src.stateDict().get("0.weight").get(0, 0), dst.stateDict().get("0.weight").get(0, 0));
                Path p = tmp.resolve("m-" + dtype + (format == StateDictFiles.Format.NPZ ? ".npz" : "-dir"));
                StateDictKeys keys;
                if (format == StateDictFiles.Format.NPZ) {
                    src.save(p);
                    keys = dst.load(p);
                } else {
                    src.saveNpyDir(p);
                    keys = dst.loadNpyDir(p);
                }
                assertTrue(keys.isEmpty());
                assertSameBits(src, dst);
            }
        }
    }

    @Test
    void theArchiveHoldsNumpyTypesWithCountersAsInt64() {
        try (Sequential m = model(DType.F32, 4)) {
            ((TestLayers.Stats) m.get(2)).setCounter(17);
            Path p = tmp.resolve("m.npz");
            m.save(p);
            Map<String, NpyArray> arrays = Npz.readArrays(p);
            assertEquals(List.copyOf(m.stateDict().keySet()), List.copyOf(arrays.keySet()));
            assertEquals(NpyDType.INT64, arrays.get("2.num_batches_tracked").dtype());
            assertArrayEquals(new long[] {17}, arrays.get("2.num_batches_tracked").longs());
            assertEquals(0, arrays.get("2.num_batches_tracked").rank());
            assertEquals(NpyDType.FLOAT32, arrays.get("0.weight").dtype());
            assertArrayEquals(new int[] {4, 3}, arrays.get("0.weight").shape());
        }
    }

    @Test
    void aParameterStoredAsIntegersIsRejectedAndACounterMustBeAWholeNumber() {
        try (Sequential m = model(DType.F64, 4)) {
            Map<String, NpyArray> arrays = new LinkedHashMap<>(StateDictFiles.toArrays(m.stateDict(), m.integerStateKeys()));
            arrays.put("3.weight", NpyArray.ofLongs(new int[] {2, 4}, new long[8]));
            Path p = tmp.resolve("bad.npz");
            Npz.writeArrays(p, arrays, true);
            String msg = assertThrows(IllegalArgumentException.class, () -> m.load(p)).getMessage();
            assertTrue(msg.contains("dtype mismatch for 3.weight: the file holds integers (<i8), the current Sequential "
                    + "holds float64."), msg);

            // a counter written as float32 (as PyTorch 1.13 keeps AdamW's step) loads when whole
            arrays = new LinkedHashMap<>(StateDictFiles.toArrays(m.stateDict(), m.integerStateKeys()));
            arrays.put("2.num_batches_tracked", NpyArray.ofDoubles(NpyDType.FLOAT32, new int[0], new double[] {12}));
            Npz.writeArrays(p, arrays, false);
            m.load(p);
            assertEquals(12.0, m.stateDict().get("2.num_batches_tracked").item());
            assertEquals(DType.F64, m.stateDict().get("2.num_batches_tracked").dtype());

            arrays.put("2.num_batches_tracked", NpyArray.ofDoubles(NpyDType.FLOAT64, new int[0], new double[] {2.5}));
            Npz.writeArrays(p, arrays, false);
            String half = assertThrows(IllegalArgumentException.class, () -> m.load(p)).getMessage();
            assertTrue(half.contains("non-integer value for 2.num_batches_tracked"), half);
            arrays.put("2.num_batches_tracked", NpyArray.ofLongs(NpyDType.BOOL, new int[0], new long[] {1}));
            Npz.writeArrays(p, arrays, false);
            String bool = assertThrows(IllegalArgumentException.class, () -> m.load(p)).getMessage();
            assertTrue(bool.contains("dtype mismatch for 2.num_batches_tracked: the file holds booleans"), bool);
        }
    }

    @Test
    void aNanRunningStatisticInAFileIsRejectedAndTheModelKeepsItsValues() {
        try (Sequential src = model(DType.F32, 1); Sequential dst = model(DType.F32, 2)) {
            Path dir = tmp.resolve("npy");
            src.saveNpyDir(dir);
            double[] rm = src.stateDict().get("2.running_mean").toDoubleArray();
            rm[1] = Double.NaN;
            Npy.write(dir.resolve("2.running_mean.npy"), Tensor.fromDoubles(rm, Shape.of(4), DType.F32, Device.CPU));
            double[] before = dst.stateDict().get("0.weight").toDoubleArray();
            String msg = assertThrows(IllegalArgumentException.class, () -> dst.loadNpyDir(dir)).getMessage();
            assertTrue(msg.contains("layer '2' (Stats) buffer 'running_mean' holds NaN at flat index 1"), msg);
            assertArrayEquals(before, dst.stateDict().get("0.weight").toDoubleArray(), 0.0);
        }
    }

    @Test
    void aFileFromAnotherArchitectureListsTheMismatches() {
        try (Sequential src = model(DType.F32, 1);
             Sequential other = new Sequential(new Linear(3, 5, true, DType.F32, Device.CPU, new Rng(1)))) {
            Path p = tmp.resolve("other.npz");
            other.save(p);
            String msg = assertThrows(IllegalArgumentException.class, () -> src.load(p)).getMessage();
            assertTrue(msg.contains("Missing key(s) in state_dict: \"2.scale\""), msg);
            assertTrue(msg.contains("size mismatch for 0.weight: copying a param with shape [5, 3] from checkpoint, "
                    + "the shape in current model is [4, 3]."), msg);
            // not strict: missing names are no longer errors, a size mismatch still is
            String loose = assertThrows(IllegalArgumentException.class, () -> src.load(p, false)).getMessage();
            assertTrue(loose.contains("size mismatch for 0.weight"), loose);
            assertTrue(!loose.contains("Missing key(s)"), loose);
        }
    }

    @Test
    void optimizerStateRoundTripsThroughAFileWithItsStepAsInt64() {
        Tensor p = Tensor.randn(new Rng(1), Shape.of(3, 2), DType.F32, Device.CPU).requiresGrad(true);
        Tensor q = Tensor.fromDoubles(p.toDoubleArray(), p.shape(), DType.F32, Device.CPU).requiresGrad(true);
        try (AdamW a = new AdamW(List.of(p), 0.1); AdamW b = new AdamW(List.of(q), 0.1)) {
            for (int s = 0; s < 3; s++) {
                p.setGrad(Tensor.randn(new Rng(10 + s), p.shape(), DType.F32, Device.CPU));
                a.step();
            }
            Path f = tmp.resolve("adamw.npz");
            a.save(f);
            assertEquals(NpyDType.INT64, Npz.readArrays(f).get("state.0.step").dtype());
            b.load(f);
            for (String k : a.stateDict().keySet()) {
                assertArrayEquals(bits(a.stateDict().get(k)), bits(b.stateDict().get(k)), k);
            }
        }
    }
}
