package io.jnorm.nn;

import io.jnorm.tensor.Tensor;
import java.util.Map;
import java.util.Set;

/**
 * Anything whose state is a flat dictionary of named tensors: modules, optimizers.
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
}
