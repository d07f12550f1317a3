package io.jnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CopyChecksTest {

    private static final DevicePointer BUF = new DevicePointer(0x1000, 64);

    @Test
    void aCopyThatFitsReturnsItsBytes() {
        assertEquals(64, CopyChecks.hostDevice("c", BUF, 0, 16, 0, 16, 4));
        assertEquals(8, CopyChecks.hostDevice("c", BUF, 56, 10, 9, 1, 8));
        assertEquals(0, CopyChecks.hostDevice("c", BUF, 64, 0, 0, 0, 4));
    }

    @Test
    void overrunsNameTheCallAndTheBuffer() {
        IllegalArgumentException device = assertThrows(IllegalArgumentException.class,
                () -> CopyChecks.hostDevice("copyToDevice(float[])", BUF, 8, 100, 0, 15, 4));
        assertTrue(device.getMessage().contains("copyToDevice(float[])") && device.getMessage().contains("64 bytes"),
                device.getMessage());
        IllegalArgumentException host = assertThrows(IllegalArgumentException.class,
                () -> CopyChecks.hostDevice("copyToHost(double[])", BUF, 0, 4, 2, 3, 8));
        assertTrue(host.getMessage().contains("host array of 4 elements"), host.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CopyChecks.hostDevice("c", BUF, -1, 4, 0, 1, 4));
        assertThrows(IllegalArgumentException.class, () -> CopyChecks.deviceRange("memsetZero", BUF, 60, 8));
    }
}
