package io.jnorm.nn;

import io.jnorm.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * Anything whose state is a flat dictionary of named tensors: modules, optimizers. The default
 * methods save that dictionary to disk and load it back through {@link StateDictFiles}.
 */
public interface StateDictOwner {

    /** The state by name; values are the owner's live tensors, not copies (do not close them). */
    Map<String, Tensor> stateDict();

    /** Names of the entries that are whole-number counters (float64 in memory, int64 on disk). */
    Set<String> integerStateKeys();

    /** Whether {@code key} names a counter; used to check a file's int64 arrays on load. */
    default boolean isIntegerStateKey(String key) {
        return integerStateKeys().contains(key);
    }

    /**
     * Copies {@code state} into this owner.
     *
     * @throws IllegalArgumentException listing every mismatch; nothing is changed then
     */
    StateDictKeys loadStateDict(Map<String, Tensor> state, boolean strict);

    /** Writes the state to a NumPy {@code .npz} archive ({@code numpy.load} reads it). */
    default void save(Path file) {
        StateDictFiles.saveNpz(file, stateDict(), integerStateKeys());
    }

    /** Strict load of a {@code .npz} written by {@link #save} (or by NumPy from a PyTorch state_dict). */
    default StateDictKeys load(Path file) {
        return load(file, true);
    }

    default StateDictKeys load(Path file, boolean strict) {
        return StateDictFiles.loadInto(this, StateDictFiles.Format.NPZ, file, strict);
    }

    /** Writes one {@code <key>.npy} per entry into {@code dir} (created if needed). */
    default void saveNpyDir(Path dir) {
        StateDictFiles.saveNpyDir(dir, stateDict(), integerStateKeys());
    }

    /** Strict load of a folder written by {@link #saveNpyDir}. */
    default StateDictKeys loadNpyDir(Path dir) {
        return loadNpyDir(dir, true);
    }

    default StateDictKeys loadNpyDir(Path dir, boolean strict) {
        return StateDictFiles.loadInto(this, StateDictFiles.Format.NPY_DIR, dir, strict);
    }
}
