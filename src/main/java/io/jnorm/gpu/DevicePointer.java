package io.jnorm.gpu;

/** A device allocation: its 64-bit device address and its size in bytes. */
public record DevicePointer(long address, long bytes) {
    public DevicePointer {
        if (bytes < 0) {
            throw new IllegalArgumentException("DevicePointer: negative size " + bytes);
        }
    }

    @Override
    public String toString() {
        return String.format("0x%x(%d bytes)", address, bytes);
    }
}
