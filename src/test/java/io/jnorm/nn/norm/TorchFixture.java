package io.jnorm.nn.norm;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One PyTorch reference case under {@code shared/fixtures/torch/<method>/<case>} (layout in the
 * fixtures README): a test-only reader of float64 C-order .npy files and of the few top-level
 * meta.json fields the tests need (regexes on a flat, known file; not a JSON parser).
 */
final class TorchFixture {
    final String method;
    final String name;
    final Path dir;
    private final String meta;

    private TorchFixture(String method, Path dir) {
        this.method = method;
        this.name = dir.getFileName().toString();
        this.dir = dir;
        try {
            this.meta = Files.readString(dir.resolve("meta.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path root() {
        String shared = System.getProperty("jnorm.shared", "../shared");
        return Path.of(shared, "fixtures", "torch");
    }

    /** Every case of a method ("bn_torch", ...), sorted by name. */
    static List<TorchFixture> cases(String method) {
        Path d = root().resolve(method);
        if (!Files.isDirectory(d)) {
            throw new IllegalStateException("fixtures not found at " + d.toAbsolutePath()
                    + " (set -Djnorm.shared to the shared/ folder)");
        }
        try (Stream<Path> s = Files.list(d)) {
            List<TorchFixture> out = new ArrayList<>();
            s.filter(p -> Files.isRegularFile(p.resolve("meta.json"))).sorted()
                    .forEach(p -> out.add(new TorchFixture(method, p)));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return method + "/" + name;
    }

    // ------------------------------------------------------------ meta.json (top-level fields)

    boolean isError() {
        return meta.contains("\"expect_error\"");
    }

    String string(String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(meta);
        if (!m.find()) {
            throw new IllegalStateException(this + ": meta.json has no string field '" + key + "'");
        }
        return m.group(1);
    }

    /** A number, or null for JSON null. */
    Double number(String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":\\s*(null|[-+0-9.eE]+)").matcher(meta);
        if (!m.find()) {
            throw new IllegalStateException(this + ": meta.json has no numeric field '" + key + "'");
        }
        return m.group(1).equals("null") ? null : Double.valueOf(m.group(1));
    }

    boolean flag(String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":\\s*(true|false)").matcher(meta);
        if (!m.find()) {
            throw new IllegalStateException(this + ": meta.json has no boolean field '" + key + "'");
        }
        return Boolean.parseBoolean(m.group(1));
    }

    int[] ints(String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":\\s*\\[([^\\]]*)\\]").matcher(meta);
        if (!m.find()) {
            throw new IllegalStateException(this + ": meta.json has no list field '" + key + "'");
        }
        return parseInts(m.group(1));
    }

    boolean eval() {
        return string("mode").equals("eval");
    }

    int steps() {
        return number("steps").intValue();
    }

    // ------------------------------------------------------------ arrays

    boolean has(String file) {
        return Files.isRegularFile(dir.resolve(file + ".npy"));
    }

    static String step(int k, String file) {
        return String.format("step_%02d/%s", k, file);
    }

    /** A float64 array as a tensor of the stored shape (0-d arrays become 0-d tensors). */
    Tensor tensor(String file, DType dtype) {
        Npy a = Npy.read(dir.resolve(file + ".npy"));
        Shape s = a.shape.length == 0 ? Shape.scalar() : Shape.of(a.shape);
        return Tensor.fromDoubles(a.data, s, dtype, Device.CPU);
    }

    Npy array(String file) {
        return Npy.read(dir.resolve(file + ".npy"));
    }

    static int[] parseInts(String list) {
        String t = list.trim();
        if (t.isEmpty()) {
            return new int[0];
        }
        String[] parts = t.split("\\s*,\\s*");
        List<Integer> v = new ArrayList<>();
        for (String p : parts) {
            if (!p.isBlank()) {
                v.add(Integer.parseInt(p.trim()));
            }
        }
        return v.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A little-endian float64 C-order NumPy array. */
    static final class Npy {
        final int[] shape;
        final double[] data;

        private Npy(int[] shape, double[] data) {
            this.shape = shape;
            this.data = data;
        }

        static Npy read(Path p) {
            byte[] b;
            try {
                b = Files.readAllBytes(p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (b.length < 10 || (b[0] & 0xff) != 0x93 || b[1] != 'N' || b[2] != 'U') {
                throw new IllegalStateException(p + ": not a .npy file");
            }
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            int major = b[6];
            int headerLen;
            int start;
            if (major == 1) {
                headerLen = bb.getShort(8) & 0xffff;
                start = 10;
            } else {
                headerLen = bb.getInt(8);
                start = 12;
            }
            String header = new String(b, start, headerLen, StandardCharsets.ISO_8859_1);
            if (!header.contains("'descr': '<f8'") || !header.contains("'fortran_order': False")) {
                throw new IllegalStateException(p + ": expected little-endian float64 C order, header " + header);
            }
            Matcher m = Pattern.compile("'shape':\\s*\\(([^)]*)\\)").matcher(header);
            if (!m.find()) {
                throw new IllegalStateException(p + ": no shape in header " + header);
            }
            int[] shape = parseInts(m.group(1));
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            double[] data = new double[(int) n];
            int off = start + headerLen;
            for (int i = 0; i < data.length; i++) {
                data[i] = bb.getDouble(off + 8 * i);
            }
            return new Npy(shape, data);
        }
    }
}
