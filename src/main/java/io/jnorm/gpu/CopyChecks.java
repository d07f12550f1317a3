package io.jnorm.gpu;

/**
 * Bounds checks shared by every driver's copies, so that a bad copy fails the same way, with the
 * same message, on the emulator and on a GPU, before anything reaches the device.
 */
public final class CopyChecks {

    private CopyChecks() {
    }

    /**
     * Checks a copy of {@code count} elements of {@code elementBytes} each between a host array
     * of {@code hostLength} elements (starting at {@code hostOffset}) and {@code device}
     * (starting at {@code deviceByteOffset}).
     *
     * @return the number of bytes to copy
     * @throws IllegalArgumentException naming the call, the ranges and the buffer
     */
    public static long hostDevice(String call, DevicePointer device, long deviceByteOffset, int hostLength,
                                  int hostOffset, int count, int elementBytes) {
        if (device == null) {
            throw new IllegalArgumentException(call + ": null device pointer");
        }
        if (count < 0 || hostOffset < 0 || deviceByteOffset < 0) {
            throw new IllegalArgumentException(String.format(
                    "%s: negative count %d, host offset %d or device offset %d", call, count, hostOffset, deviceByteOffset));
        }
        if ((long) hostOffset + count > hostLength) {
            throw new IllegalArgumentException(String.format(
                    "%s: %d elements from host offset %d overrun the host array of %d elements",
                    call, count, hostOffset, hostLength));
        }
        long bytes = (long) count * elementBytes;
        if (deviceByteOffset + bytes > device.bytes()) {
            throw new IllegalArgumentException(String.format(
                    "%s: %d bytes at device byte offset %d overrun %s", call, bytes, deviceByteOffset, device));
        }
        return bytes;
    }

    /** Checks that {@code [offset, offset + bytes)} lies inside {@code device}. */
    public static void deviceRange(String call, DevicePointer device, long offset, long bytes) {
        if (device == null) {
            throw new IllegalArgumentException(call + ": null device pointer");
        }
        if (offset < 0 || bytes < 0 || offset + bytes > device.bytes()) {
            throw new IllegalArgumentException(String.format(
                    "%s: %d bytes at byte offset %d do not fit in %s", call, bytes, offset, device));
        }
    }
}
