package io.jnorm.cli;

import io.jnorm.tensor.Device;

/**
 * One device jnorm can compute on, as {@code jnorm devices} lists it.
 *
 * @param device  the device tensors are placed on
 * @param summary one line for people: the backend and, for a GPU, its name and memory
 */
public record DeviceInfo(Device device, String summary) {
    public DeviceInfo {
        if (device == null || summary == null || summary.isBlank()) {
            throw new IllegalArgumentException("DeviceInfo: device and summary are required, got "
                    + device + ", '" + summary + "'");
        }
    }
}
