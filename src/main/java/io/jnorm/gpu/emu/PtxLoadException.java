package io.jnorm.gpu.emu;

import io.jnorm.gpu.GpuException;

/** A PTX module the emulator cannot load: a syntax error or an unsupported feature, with its line. */
final class PtxLoadException extends GpuException {
    PtxLoadException(String module, int line, String text, String why) {
        super("EMU_UNSUPPORTED_PTX", String.format("%s:%d: %s: '%s'", module, line, why, text.strip()));
    }
}
