package io.jnorm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NpzTest {

    @TempDir
    Path dir;

    private static Map<String, NpyArray> stateDict() {
        Map<String, NpyArray> m = new LinkedHashMap<>();
        m.put("bn.weight", NpyArray.ofDoubles(NpyDType.FLOAT32, new int[] {3}, new double[] {1, 0.5, -2}));
        m.put("bn.running_mean", NpyArray.ofDoubles(NpyDType.FLOAT64, new int[] {3}, new double[] {0.1, 0.2, 0.3}));
        m.put("bn.num_batches_tracked", NpyArray.ofLongs(new int[0], new long[] {12}));
        m.put("conv/kernel", NpyArray.ofDoubles(NpyDType.FLOAT64, new int[] {2, 1, 2, 2},
                new double[] {1, 2, 3, 4, 5, 6, 7, 8}));
        return m;
    }

    @ParameterizedTest(name = "compress={0}")
    @ValueSource(booleans = {false, true})
    void roundTripKeepsNamesOrderDtypesAndValues(boolean compress) throws IOException {
        Path p = dir.resolve("state.npz");
        Map<String, NpyArray> in = stateDict();
        Npz.writeArrays(p, in, compress);
        Map<String, NpyArray> out = Npz.readArrays(p);
        assertEquals(List.copyOf(in.keySet()), List.copyOf(out.keySet()));
        assertEquals(in, out);
        try (ZipFile zip = new ZipFile(p.toFile())) {
            int method = compress ? ZipEntry.DEFLATED : ZipEntry.STORED;
            zip.stream().forEach(e -> assertEquals(method, e.getMethod(), e.getName()));
            assertTrue(zip.stream().allMatch(e -> e.getName().endsWith(".npy")));
        }
    }

    @Test
    void tensorsRoundTripAsTensors() {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("w", Tensor.of(new float[] {1.5f, -2f, 3.25f, 4f}, 2, 2));
        in.put("eps", Tensor.scalar(1e-5, DType.F64, io.jnorm.tensor.Device.CPU));
        Path p = dir.resolve("t.npz");
        Npz.write(p, in);
        Map<String, Tensor> out = Npz.read(p);
        assertEquals(Shape.of(2, 2), out.get("w").shape());
        assertEquals(DType.F32, out.get("w").dtype());
        assertArrayEquals(in.get("w").toDoubleArray(), out.get("w").toDoubleArray(), 0.0);
        assertEquals(Shape.scalar(), out.get("eps").shape());
        assertEquals(1e-5, out.get("eps").item(), 0.0);
        in.values().forEach(Tensor::close);
        out.values().forEach(Tensor::close);
    }

    /**
     * Archives written by NumPy 2.4 (ZIP64 local headers, as savez writes them):
     * <pre>
     * arrs = {"layer1.weight": np.array([[0.5, -1.25, 2.0], [3.0, 4.5, -6.0]], dtype=np.float32),
     *         "layer1.running_var": np.array([1.0, 0.25, 1e-300]),
     *         "layer1.num_batches_tracked": np.array(7, dtype=np.int64),
     *         "mask": np.array([True, False, True]),
     *         "counts": np.array([-3, 0, 2147483647], dtype=np.int32)}
     * np.savez("numpy_savez.npz", **arrs); np.savez_compressed("numpy_savez_compressed.npz", **arrs)
     * </pre>
     */
    @ParameterizedTest
    @ValueSource(strings = {"numpy_savez.npz", "numpy_savez_compressed.npz"})
    void readsArchivesWrittenByNumpy(String resource) throws IOException, URISyntaxException {
        Path p = dir.resolve(resource);
        try (InputStream in = NpzTest.class.getResourceAsStream(resource)) {
            Files.copy(in, p);
        }
        Map<String, NpyArray> m = Npz.readArrays(p);
        assertEquals(List.of("layer1.weight", "layer1.running_var", "layer1.num_batches_tracked", "mask", "counts"),
                List.copyOf(m.keySet()));
        NpyArray w = m.get("layer1.weight");
        assertEquals(NpyDType.FLOAT32, w.dtype());
        assertArrayEquals(new int[] {2, 3}, w.shape());
        assertArrayEquals(new double[] {0.5, -1.25, 2.0, 3.0, 4.5, -6.0}, w.doubles(), 0.0);
        assertArrayEquals(new double[] {1.0, 0.25, 1e-300}, m.get("layer1.running_var").doubles(), 0.0);
        NpyArray n = m.get("layer1.num_batches_tracked");
        assertEquals(0, n.rank());
        assertArrayEquals(new long[] {7}, n.longs());
        assertArrayEquals(new long[] {1, 0, 1}, m.get("mask").longs());
        assertEquals(NpyDType.BOOL, m.get("mask").dtype());
        assertArrayEquals(new long[] {-3, 0, 2147483647}, m.get("counts").longs());
    }

    @Test
    void nonNpyMembersAndNonZipFilesAreClearErrors() throws IOException {
        Path p = dir.resolve("odd.npz");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(p))) {
            zip.putNextEntry(new ZipEntry("notes.txt"));
            zip.write("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            zip.closeEntry();
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npz.readArrays(p));
        assertTrue(e.getMessage().contains("notes.txt"), e.getMessage());

        Path notZip = dir.resolve("plain.npz");
        Files.writeString(notZip, "not a zip at all");
        e = assertThrows(IllegalArgumentException.class, () -> Npz.readArrays(notZip));
        assertTrue(e.getMessage().contains("zip"), e.getMessage());

        Map<String, NpyArray> bad = new LinkedHashMap<>();
        bad.put("", NpyArray.ofLongs(new int[0], new long[] {1}));
        e = assertThrows(IllegalArgumentException.class, () -> Npz.writeArrays(dir.resolve("x.npz"), bad, true));
        assertTrue(e.getMessage().contains("name"), e.getMessage());
    }
}
