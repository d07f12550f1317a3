package io.jnorm.gpu.jcuda;

import jcuda.driver.CUdeviceptr;

/**
 * A {@link CUdeviceptr} whose raw device address can be read: JCuda keeps it in a protected
 * field, and the address is what a kernel parameter and a {@code DevicePointer} carry.
 */
final class DeviceAllocation extends CUdeviceptr {

    long address() {
        return getNativePointer();
    }
}
