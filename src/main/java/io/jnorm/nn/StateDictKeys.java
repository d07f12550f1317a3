package io.jnorm.nn;

import java.util.List;

/**
 * What a state-dictionary load did not match, as PyTorch's {@code _IncompatibleKeys}: names the
 * receiver has but the dictionary lacked, and names the dictionary had but the receiver does not.
 * A strict load throws instead of returning non-empty lists.
 */
public record StateDictKeys(List<String> missing, List<String> unexpected) {

    public StateDictKeys {
        missing = List.copyOf(missing);
        unexpected = List.copyOf(unexpected);
    }

    /** True when every name matched. */
    public boolean isEmpty() {
        return missing.isEmpty() && unexpected.isEmpty();
    }
}
