package io.jnorm.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class NpyTest {

    @TempDir
    Path dir;

    static Stream<Arguments> shapesAndTypes() {
        int[][] shapes = {{}, {1}, {7}, {2, 3}, {2, 3, 4, 5}, {1, 1, 1}};
        return Stream.of(DType.F32, DType.F64)
                .flatMap(t -> Stream.of(shapes).map(s -> Arguments.of(t, s)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("shapesAndTypes")
    void tensorRoundTripKeepsShapeDtypeAndEveryBit(DType dtype, int[] dims) throws IOException {
        Shape shape = dims.length == 0 ? Shape.scalar() : Shape.of(dims);
        Tensor t = Tensor.randn(new Rng(dims.length * 31L + dtype.ordinal()), shape, dtype, Device.CPU);
        Path p = dir.resolve("t.npy");
        Npy.write(p, t);
        // NEP 1: the data starts at a multiple of 64 bytes and its length is numel * itemsize.
        byte[] bytes = Files.readAllBytes(p);
        int headerLength = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
        assertEquals(0, (10 + headerLength) % 64, "data offset must be 64-byte aligned");
        assertEquals(10 + headerLength + shape.numel() * dtype.bytes(), bytes.length);

        try (Tensor back = Npy.read(p)) {
            assertEquals(shape, back.shape());
            assertEquals(dtype, back.dtype());
            assertArrayEquals(t.toDoubleArray(), back.toDoubleArray(), 0.0);
        }
        t.close();
    }

    @Test
    void largeArraysCrossTheReadChunkBoundary() {
        // 100003 is prime: the element count is not a multiple of any chunk size.
        Rng rng = new Rng(7);
        double[] v = new double[100_003];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextGaussian() * 1e3;
        }
        for (DType dtype : DType.values()) {
            Path p = dir.resolve("big" + dtype + ".npy");
            try (Tensor t = Tensor.fromDoubles(v, Shape.of(v.length), dtype, Device.CPU)) {
                Npy.write(p, t);
                try (Tensor back = Npy.read(p)) {
                    assertArrayEquals(t.toDoubleArray(), back.toDoubleArray(), 0.0, dtype.toString());
                }
            }
        }
    }

    @Test
    void int64RoundTripKeepsValuesBeyondDoublePrecision() {
        long[] v = {Long.MIN_VALUE, -1, 0, 1, (1L << 53) + 1, Long.MAX_VALUE};
        Path p = dir.resolve("i.npy");
        Npy.writeLongs(p, v, new int[] {2, 3});
        assertArrayEquals(v, Npy.readLongs(p));
        NpyArray a = Npy.readArray(p);
        assertEquals(NpyDType.INT64, a.dtype());
        assertArrayEquals(new int[] {2, 3}, a.shape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npy.read(p));
        assertTrue(e.getMessage().contains("9007199254740993") || e.getMessage().contains("-9223372036854775808"),
                e.getMessage());
    }

    @Test
    void int64ScalarReadsAsAnExactFloat64Tensor() {
        Path p = dir.resolve("n.npy");
        Npy.writeLongs(p, new long[] {3}, new int[0]);
        try (Tensor t = Npy.read(p)) {
            assertEquals(Shape.scalar(), t.shape());
            assertEquals(DType.F64, t.dtype());
            assertEquals(3.0, t.item(), 0.0);
        }
        assertThrows(IllegalArgumentException.class, () -> Npy.writeLongs(p, new long[] {1, 2}, new int[] {3}));
    }

    @Test
    void readLongsRejectsFloatingFiles() {
        Path p = dir.resolve("f.npy");
        try (Tensor t = Tensor.of(new double[] {1.5}, 1)) {
            Npy.write(p, t);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npy.readLongs(p));
        assertTrue(e.getMessage().contains("<f8"), e.getMessage());
    }

    // ------------------------------------------------------------ bytes built by hand from NEP 1

    /** magic, version, little-endian header length (2 or 4 bytes), header text, data. */
    private static byte[] npy(int major, String header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x93);
        out.writeBytes("NUMPY".getBytes(StandardCharsets.US_ASCII));
        out.write(major);
        out.write(0);
        int preamble = major == 1 ? 10 : 12;
        byte[] text = header.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        int pad = (64 - (preamble + text.length + 1) % 64) % 64;
        int len = text.length + pad + 1;
        ByteBuffer b = ByteBuffer.allocate(major == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        if (major == 1) {
            b.putShort((short) len);
        } else {
            b.putInt(len);
        }
        out.writeBytes(b.array());
        out.writeBytes(text);
        out.writeBytes(" ".repeat(pad).getBytes(StandardCharsets.US_ASCII));
        out.write('\n');
        out.writeBytes(data);
        return out.toByteArray();
    }

    private static byte[] littleEndianDoubles(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) {
            b.putDouble(d);
        }
        return b.array();
    }

    private Path file(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "hand", ".npy");
        Files.write(p, bytes);
        return p;
    }

    @Test
    void readsHandBuiltVersionOneFile() throws IOException {
        double[] v = {1, -2.5, 3.25, 1e-300, -0.0, 6};
        Path p = file(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", littleEndianDoubles(v)));
        try (Tensor t = Npy.read(p)) {
            assertEquals(Shape.of(2, 3), t.shape());
            assertEquals(DType.F64, t.dtype());
            assertArrayEquals(v, t.toDoubleArray(), 0.0);
            assertEquals(-2.5, t.get(0, 1), 0.0);
        }
    }

    @Test
    void readsVersionTwoAndThreeHeadersWithOtherKeyOrderAndSpacing() throws IOException {
        byte[] data = littleEndianDoubles(4, 5);
        Path v2 = file(npy(2, "{\"shape\":(2,),\"fortran_order\":False,\"descr\":\"<f8\"}", data));
        Path v3 = file(npy(3, "{'descr': '<f8', 'shape': (2,), 'fortran_order': False}", data));
        for (Path p : new Path[] {v2, v3}) {
            try (Tensor t = Npy.read(p)) {
                assertArrayEquals(new double[] {4, 5}, t.toDoubleArray(), 0.0);
            }
        }
    }

    @Test
    void readsFloat32Int32AndBoolAsValues() throws IOException {
        ByteBuffer f = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.1f).putFloat(-3f);
        try (Tensor t = Npy.read(file(npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f.array())))) {
            assertEquals(DType.F32, t.dtype());
            assertArrayEquals(new double[] {0.1f, -3f}, t.toDoubleArray(), 0.0);
        }
        ByteBuffer i = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(-7).putInt(0).putInt(Integer.MAX_VALUE);
        Path ip = file(npy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", i.array()));
        assertArrayEquals(new long[] {-7, 0, Integer.MAX_VALUE}, Npy.readLongs(ip));
        try (Tensor t = Npy.read(ip)) {
            assertArrayEquals(new double[] {-7, 0, Integer.MAX_VALUE}, t.toDoubleArray(), 0.0);
        }
        // NumPy reads any non-zero byte of a bool array as True.
        Path bp = file(npy(1, "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }", new byte[] {0, 1, 2, 0}));
        assertArrayEquals(new long[] {0, 1, 1, 0}, Npy.readLongs(bp));
    }

    @Test
    void readsZeroDimensionalArrayAsScalar() throws IOException {
        Path p = file(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", littleEndianDoubles(42)));
        try (Tensor t = Npy.read(p)) {
            assertEquals(Shape.scalar(), t.shape());
            assertEquals(42.0, t.item(), 0.0);
        }
    }

    @Test
    void writesTheHeaderNumpyWrites() throws IOException {
        Path p = dir.resolve("w.npy");
        try (Tensor t = Tensor.of(new float[] {1, 2, 3}, 3)) {
            Npy.write(p, t);
        }
        byte[] expected = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
                ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3).array());
        assertArrayEquals(expected, Files.readAllBytes(p));
    }

    // ------------------------------------------------------------ clear errors

    private void assertRejected(byte[] bytes, String... fragments) throws IOException {
        Path p = file(bytes);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npy.read(p));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should mention '" + f + "'");
        }
        assertTrue(e.getMessage().contains(p.getFileName().toString()), "message should name the file: " + e.getMessage());
    }

    @Test
    void fortranOrderIsAClearError() throws IOException {
        assertRejected(npy(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                littleEndianDoubles(1, 2, 3, 4, 5, 6)), "Fortran order", "[2, 3]");
    }

    @Test
    void bigEndianIsAClearError() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.BIG_ENDIAN).putDouble(1).putDouble(2);
        assertRejected(npy(1, "{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", b.array()),
                "big-endian", ">f8");
    }

    @Test
    void unsupportedAndMalformedInputsAreClearErrors() throws IOException {
        assertRejected(npy(1, "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", new byte[16]), "<c16");
        assertRejected(npy(1, "{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }",
                new byte[12]), "structured");
        assertRejected(npy(1, "{'descr': '<f8', 'shape': (1,), }", new byte[8]), "keys");
        assertRejected(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", littleEndianDoubles(1, 2)),
                "truncated");
        assertRejected(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", littleEndianDoubles(1, 2)),
                "bytes after");
        assertRejected(npy(4, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", littleEndianDoubles(1)),
                "version 4.0");
        assertRejected(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, x), }", littleEndianDoubles(1)),
                "malformed header");
        assertRejected("PK\u0003\u0004 not numpy".getBytes(StandardCharsets.ISO_8859_1), "not a .npy file");
        // A zero-sized array is a valid .npy file but has no jnorm tensor form.
        Path empty = file(npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", new byte[0]));
        assertEquals(0, Npy.readArray(empty).numel());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npy.read(empty));
        assertTrue(e.getMessage().contains("[0, 3]"), e.getMessage());
    }
}
