package io.jnorm.gpu;

import java.util.List;

/** A loaded PTX module. */
public interface GpuModule {
    /** The name given at load time, used in messages. */
    String name();

    /** Every {@code .entry} in the module, in source order. */
    List<String> entryNames();
}
