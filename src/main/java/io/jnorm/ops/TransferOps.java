package io.jnorm.ops;

import io.jnorm.autograd.Autograd;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Tensor;

/** Copies between devices and dtypes; gradients flow back through the same copy. */
final class TransferOps {
    private TransferOps() {
    }

    static Tensor copy(Tensor x) {
        Tensor y = Tensor.zeros(x.shape(), x.dtype(), x.device());
        x.backend().copy(x, y);
        return Autograd.record("copy", y, (gy, needs) -> new Tensor[] {gy}, x);
    }

    static Tensor cast(Tensor x, DType dtype) {
        if (x.dtype() == dtype) {
            return x;
        }
        Tensor y = Tensor.zeros(x.shape(), dtype, x.device());
        x.backend().copy(x, y);
        return Autograd.record("cast", y, (gy, needs) -> new Tensor[] {cast(gy, x.dtype())}, x);
    }

    static Tensor toDevice(Tensor x, Device device) {
        if (x.device().equals(device)) {
            return x;
        }
        // Through the host: device-to-device copies between backends are not a hot path.
        Tensor y = Tensor.fromDoubles(x.toDoubleArray(), x.shape(), x.dtype(), device);
        return Autograd.record("to", y, (gy, needs) -> new Tensor[] {toDevice(gy, x.device())}, x);
    }
}
