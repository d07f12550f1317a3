package io.jnorm.nn.norm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnorm.io.Npy;
import io.jnorm.io.NpyArray;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * One PyTorch reference case under {@code shared/fixtures/torch/<method>/<case>} (layout in the
 * fixtures README): meta.json read with Jackson, arrays with {@link Npy}.
 */
final class TorchFixture {
    private static final ObjectMapper JSON = new ObjectMapper();

    final String method;
    final String name;
    final Path dir;
    private final JsonNode meta;

    private TorchFixture(String method, Path dir) {
        this.method = method;
        this.name = dir.getFileName().toString();
        this.dir = dir;
        try {
            this.meta = JSON.readTree(dir.resolve("meta.json").toFile());
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

    // ------------------------------------------------------------ meta.json

    private JsonNode field(String key) {
        JsonNode n = meta.get(key);
        if (n == null) {
            throw new IllegalStateException(this + ": meta.json has no field '" + key + "'");
        }
        return n;
    }

    boolean isError() {
        return meta.has("expect_error");
    }

    String string(String key) {
        return field(key).asText();
    }

    /** A number, or null for JSON null. */
    Double number(String key) {
        JsonNode n = field(key);
        return n.isNull() ? null : n.asDouble();
    }

    boolean flag(String key) {
        return field(key).asBoolean();
    }

    int[] ints(String key) {
        JsonNode n = field(key);
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = n.get(i).asInt();
        }
        return out;
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

    /** A stored float64 array as a tensor of the stored shape (0-d arrays become 0-d tensors). */
    Tensor tensor(String file, DType dtype) {
        return array(file).toTensor(dtype);
    }

    NpyArray array(String file) {
        return Npy.readArray(dir.resolve(file + ".npy"));
    }

    /** "3, 4" → {3, 4} (arguments of a recorded module call). */
    static int[] parseInts(String list) {
        List<Integer> v = new ArrayList<>();
        for (String p : list.trim().split("\\s*,\\s*")) {
            if (!p.isBlank()) {
                v.add(Integer.parseInt(p.trim()));
            }
        }
        return v.stream().mapToInt(Integer::intValue).toArray();
    }
}
