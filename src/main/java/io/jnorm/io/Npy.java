package io.jnorm.io;

import io.jnorm.tensor.Tensor;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0; NEP 1).
 *
 * <p>Supported: little-endian float32, float64, int64, int32 and bool arrays in C order,
 * including 0-d arrays (read as {@link io.jnorm.tensor.Shape#scalar()} tensors). Fortran-order,
 * big-endian, structured and object arrays are rejected with an IllegalArgumentException that
 * names the file and says why. Files are written in version 1.0 (2.0 when the header would not
 * fit), which every NumPy since 1.0 reads. I/O failures surface as {@link UncheckedIOException}.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int CHUNK = 1 << 16;

    private Npy() {
    }

    // ------------------------------------------------------------------ files

    /**
     * A CPU tensor from a .npy file: float32 stays float32, float64/int64/int32/bool become
     * float64 (integers exactly; see {@link #readLongs} for int64 beyond 2^53).
     */
    public static Tensor read(Path path) {
        return readArray(path).toTensor();
    }

    /** The raw array (dtype, shape, values) of a .npy file. */
    public static NpyArray readArray(Path path) {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(path), CHUNK)) {
            return decode(in, path.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("Npy: cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * The values of an integer or boolean .npy file.
     *
     * @throws IllegalArgumentException when the file holds floating values
     */
    public static long[] readLongs(Path path) {
        NpyArray a = readArray(path);
        if (!a.dtype().isIntegral()) {
            throw new IllegalArgumentException("Npy.readLongs: " + path + " holds " + a.dtype().descr()
                    + " values, not integers");
        }
        return a.longs();
    }

    /** Writes a tensor (float32 as {@code <f4}, float64 as {@code <f8}); the tensor is copied to the host. */
    public static void write(Path path, Tensor t) {
        writeArray(path, NpyArray.of(t));
    }

    /** Writes int64 values ({@code <i8}) with the given shape ({@code new int[0]} for a 0-d array). */
    public static void writeLongs(Path path, long[] values, int[] shape) {
        writeArray(path, NpyArray.ofLongs(shape, values));
    }

    /** Writes any supported array. */
    public static void writeArray(Path path, NpyArray array) {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(path), CHUNK)) {
            encode(array, out);
        } catch (IOException e) {
            throw new UncheckedIOException("Npy: cannot write " + path + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ streams

    /**
     * Reads one array from a stream holding exactly one .npy image (a file, a zip entry).
     *
     * @param what names the source in error messages
     * @throws IllegalArgumentException for a malformed or unsupported image
     */
    public static NpyArray decode(InputStream in, String what) throws IOException {
        byte[] magic = readFully(in, 6, what, "magic string");
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IllegalArgumentException("Npy: " + what + " is not a .npy file (no \\x93NUMPY magic)");
        }
        byte[] version = readFully(in, 2, what, "version");
        int major = version[0] & 0xff;
        int lengthBytes;
        Charset charset;
        switch (major) {
            case 1 -> {
                lengthBytes = 2;
                charset = StandardCharsets.ISO_8859_1;
            }
            case 2 -> {
                lengthBytes = 4;
                charset = StandardCharsets.ISO_8859_1;
            }
            case 3 -> {
                lengthBytes = 4;
                charset = StandardCharsets.UTF_8;
            }
            default -> throw new IllegalArgumentException("Npy: " + what + " has format version " + major + "."
                    + (version[1] & 0xff) + "; supported: 1.0, 2.0, 3.0");
        }
        ByteBuffer len = ByteBuffer.wrap(readFully(in, lengthBytes, what, "header length")).order(ByteOrder.LITTLE_ENDIAN);
        long headerLength = lengthBytes == 2 ? len.getShort() & 0xffff : len.getInt() & 0xffffffffL;
        if (headerLength > 1 << 24) {
            throw new IllegalArgumentException("Npy: " + what + " claims a header of " + headerLength + " bytes");
        }
        NpyHeader header = NpyHeader.parse(new String(readFully(in, (int) headerLength, what, "header"), charset), what);
        if (header.fortranOrder() && header.shape().length > 1) {
            // One-dimensional arrays are the same in both orders, so NumPy's flag is harmless there.
            throw new IllegalArgumentException("Npy: " + what + " is in Fortran order (shape "
                    + Arrays.toString(header.shape()) + "); only C order is supported (in NumPy: np.ascontiguousarray(a))");
        }
        long n = 1;
        for (int d : header.shape()) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Npy: " + what + " has " + n + " elements; at most "
                    + (Integer.MAX_VALUE - 8) + " fit a Java array");
        }
        NpyArray array = readData(in, header, (int) n, what);
        if (in.read() != -1) {
            throw new IllegalArgumentException("Npy: " + what + " has bytes after the " + n + " elements its header "
                    + header + " describes");
        }
        return array;
    }

    /** Writes one array as a .npy image. */
    public static void encode(NpyArray array, OutputStream out) throws IOException {
        int[] shape = array.shape();
        NpyHeader header = new NpyHeader(array.dtype(), false, shape);
        byte[] text = header.encode(10);
        int major = 1;
        if (text.length > 0xffff) {
            major = 2;
            text = header.encode(12);
        }
        out.write(MAGIC);
        out.write(new byte[] {(byte) major, 0});
        ByteBuffer len = ByteBuffer.allocate(major == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        if (major == 1) {
            len.putShort((short) text.length);
        } else {
            len.putInt(text.length);
        }
        out.write(len.array());
        out.write(text);
        writeData(array, out);
    }

    // ------------------------------------------------------------------ element data

    private static NpyArray readData(InputStream in, NpyHeader h, int n, String what) throws IOException {
        NpyDType t = h.dtype();
        double[] d = t.isIntegral() ? null : new double[n];
        long[] l = t.isIntegral() ? new long[n] : null;
        ByteBuffer buf = ByteBuffer.allocate(CHUNK - CHUNK % 8).order(ByteOrder.LITTLE_ENDIAN);
        int done = 0;
        while (done < n) {
            int count = Math.min(n - done, buf.capacity() / t.bytes());
            buf.clear();
            int want = count * t.bytes();
            int got = in.readNBytes(buf.array(), 0, want);
            if (got < want) {
                throw new IllegalArgumentException("Npy: " + what + " is truncated: its header " + h + " needs "
                        + (long) n * t.bytes() + " bytes of data, found " + ((long) done * t.bytes() + got));
            }
            buf.limit(want);
            for (int i = done; i < done + count; i++) {
                switch (t) {
                    case FLOAT32 -> d[i] = buf.getFloat();
                    case FLOAT64 -> d[i] = buf.getDouble();
                    case INT64 -> l[i] = buf.getLong();
                    case INT32 -> l[i] = buf.getInt();
                    case BOOL -> {
                        // NumPy treats any non-zero byte as True.
                        l[i] = buf.get() != 0 ? 1 : 0;
                    }
                }
            }
            done += count;
        }
        return t.isIntegral() ? NpyArray.ofLongs(t, h.shape(), l) : NpyArray.ofDoubles(t, h.shape(), d);
    }

    private static void writeData(NpyArray array, OutputStream out) throws IOException {
        NpyDType t = array.dtype();
        double[] d = array.rawDoubles();
        long[] l = array.rawLongs();
        int n = t.isIntegral() ? l.length : d.length;
        ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            if (buf.remaining() < 8) {
                out.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            switch (t) {
                case FLOAT32 -> buf.putFloat((float) d[i]);
                case FLOAT64 -> buf.putDouble(d[i]);
                case INT64 -> buf.putLong(l[i]);
                case INT32 -> buf.putInt((int) l[i]);
                case BOOL -> buf.put((byte) l[i]);
            }
        }
        out.write(buf.array(), 0, buf.position());
    }

    private static byte[] readFully(InputStream in, int n, String what, String part) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length < n) {
            throw new IllegalArgumentException("Npy: " + what + " ends inside its " + part + " ("
                    + b.length + " of " + n + " bytes)");
        }
        return b;
    }
}
