package io.jnorm.nn;

import io.jnorm.io.Npy;
import io.jnorm.io.NpyArray;
import io.jnorm.io.NpyDType;
import io.jnorm.io.Npz;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * State dictionaries on disk, as NumPy reads them: one {@code .npz} archive
 * ({@code numpy.load(f)[key]}) or a folder with one {@code <key>.npy} per entry.
 *
 * <p>Tensors are written in their own dtype (float32 as {@code <f4}, float64 as {@code <f8}) and
 * counters as int64 ({@code <i8}), so a save and load round-trips every bit. On load an integer
 * array is accepted only for a counter; a counter is accepted from an integer or a floating array
 * holding whole numbers (PyTorch 1.13 keeps AdamW's {@code step} as a float32 tensor, its
 * {@code num_batches_tracked} as int64). Float arrays keep their dtype, and the owner's
 * {@code loadStateDict} then checks names, shapes, dtypes and counter values as for an
 * in-memory load.
 */
public final class StateDictFiles {
    private static final String NPY = ".npy";

    /** The two layouts. */
    public enum Format { NPZ, NPY_DIR }

    private StateDictFiles() {
    }

    /** The arrays that would be written for a state dictionary (counters as int64). */
    public static Map<String, NpyArray> toArrays(Map<String, Tensor> state, Set<String> integerKeys) {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            Tensor t = e.getValue();
            if (integerKeys.contains(e.getKey())) {
                double[] v = t.toDoubleArray();
                long[] l = new long[v.length];
                for (int i = 0; i < v.length; i++) {
                    if (v[i] != Math.rint(v[i]) || Math.abs(v[i]) > 0x1p53) {
                        throw new IllegalArgumentException("save: counter '" + e.getKey() + "' holds " + v[i]
                                + " at flat index " + i + ", not a whole number an int64 array can hold exactly");
                    }
                    l[i] = (long) v[i];
                }
                out.put(e.getKey(), NpyArray.ofLongs(t.shape().dims(), l));
            } else {
                out.put(e.getKey(), NpyArray.of(t));
            }
        }
        return out;
    }

    /** Writes an uncompressed {@code .npz} ({@code numpy.savez} layout). */
    public static void saveNpz(Path file, Map<String, Tensor> state, Set<String> integerKeys) {
        Npz.writeArrays(file, toArrays(state, integerKeys), false);
    }

    /**
     * Writes {@code <key>.npy} files into {@code dir}, creating it if needed. Files of other
     * names already there are left alone; a later load of the folder would see them.
     */
    public static void saveNpyDir(Path dir, Map<String, Tensor> state, Set<String> integerKeys) {
        Map<String, NpyArray> arrays = toArrays(state, integerKeys);
        for (String key : arrays.keySet()) {
            if (key.isEmpty() || key.contains("/") || key.contains("\\") || key.startsWith(".")) {
                throw new IllegalArgumentException("saveNpyDir: key '" + key + "' cannot be a file name in " + dir);
            }
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("saveNpyDir: cannot create " + dir + ": " + e.getMessage(), e);
        }
        arrays.forEach((k, a) -> Npy.writeArray(dir.resolve(k + NPY), a));
    }

    /** The arrays of a file or folder, by key. */
    public static Map<String, NpyArray> read(Format format, Path path) {
        if (format == Format.NPZ) {
            if (!Files.isRegularFile(path)) {
                throw new IllegalArgumentException("load: " + path + " is not a file");
            }
            return Npz.readArrays(path);
        }
        if (!Files.isDirectory(path)) {
            throw new IllegalArgumentException("loadNpyDir: " + path + " is not a directory");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(path)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(NPY) && Files.isRegularFile(p)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("loadNpyDir: cannot list " + path + ": " + e.getMessage(), e);
        }
        Map<String, NpyArray> out = new LinkedHashMap<>();
        for (Path f : files) {
            String name = f.getFileName().toString();
            out.put(name.substring(0, name.length() - NPY.length()), Npy.readArray(f));
        }
        return out;
    }

    /** Reads {@code path} and loads it into {@code owner}; the temporary tensors are freed after. */
    static StateDictKeys loadInto(StateDictOwner owner, Format format, Path path, boolean strict) {
        Map<String, NpyArray> arrays = read(format, path);
        Map<String, Tensor> current = owner.stateDict();
        String who = owner.getClass().getSimpleName();
        List<String> errors = new ArrayList<>();
        try (Scope scope = Scope.open()) {
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
                String key = e.getKey();
                NpyArray a = e.getValue();
                boolean counter = owner.isIntegerStateKey(key);
                boolean integral = a.dtype().isIntegral();
                if (counter && a.dtype() == NpyDType.BOOL) {
                    errors.add("dtype mismatch for " + key + ": the file holds booleans (" + a.dtype().descr()
                            + "), a counter is a number (int64 as written by save).");
                    continue;
                }
                if (integral && !counter && current.containsKey(key)) {
                    errors.add("dtype mismatch for " + key + ": the file holds integers (" + a.dtype().descr()
                            + "), the current " + who + " holds " + current.get(key).dtype().numpyName() + ".");
                    continue;
                }
                try {
                    // Counters become float64 whatever their file type; the owner's load then
                    // rejects values that are not whole numbers.
                    tensors.put(key, counter ? a.toTensor(DType.F64) : a.toTensor());
                } catch (IllegalArgumentException ex) {
                    errors.add("unreadable entry " + key + ": " + ex.getMessage());
                }
            }
            if (!errors.isEmpty()) {
                throw new IllegalArgumentException(StateDictLoader.message(who + " from " + path, List.of(), List.of(), errors));
            }
            return owner.loadStateDict(tensors, strict);
        }
    }
}
