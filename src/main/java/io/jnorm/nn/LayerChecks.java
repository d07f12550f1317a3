package io.jnorm.nn;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Tensor;

/**
 * Input checks shared by the layers' forward passes. {@code who} is the layer as its messages
 * name it (e.g. "BatchRenorm2d(3, eps=1e-05, momentum=0.01)"); every message gives the input's
 * shape and what the layer expected.
 */
final class LayerChecks {
    private LayerChecks() {
    }

    /** The input must have the layer's dtype and live on its device. */
    static void dtypeAndDevice(String who, Tensor x, DType dtype, Device device) {
        if (x.dtype() != dtype || !x.device().equals(device)) {
            throw new IllegalArgumentException(who + ": input " + x.shape() + " is " + x.dtype() + " on " + x.device()
                    + " but the layer is " + dtype + " on " + device);
        }
    }

    /** The input must be [N, C, H, W] with the layer's channel count. */
    static void nchw(String who, Tensor x, int channels) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException(who + ": input must be [N, C, H, W] (rank 4), got shape " + x.shape());
        }
        if (x.dim(1) != channels) {
            throw new IllegalArgumentException(who + ": input " + x.shape() + " has " + x.dim(1) + " channels, expected "
                    + channels + " (input [N, " + channels + ", H, W])");
        }
    }

    /** {@link #nchw} and {@link #dtypeAndDevice} together, in that order. */
    static void nchw(String who, Tensor x, int channels, DType dtype, Device device) {
        nchw(who, x, channels);
        dtypeAndDevice(who, x, dtype, device);
    }
}
