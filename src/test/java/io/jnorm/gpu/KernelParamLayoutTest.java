package io.jnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * Kernel arguments become exactly the bytes cuLaunchKernel (one array per parameter) and the
 * PTX parameter space (one aligned image) expect. Signatures come from the committed PTX.
 */
class KernelParamLayoutTest {

    private static final DevicePointer X = new DevicePointer(0x7f0000001000L, 4096);
    private static final DevicePointer Y = new DevicePointer(0x7f0000002000L, 4096);

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void scalarsAndPointersArePackedLittleEndianAtAlignedOffsets() {
        GpuKernel axpy = PtxKernelStub.of("emulator_selftest", "axpy_f64");
        KernelParamLayout layout = KernelParamLayout.of(axpy, KernelArgs.of().i32(1000).f64(-2.5).ptr(X).ptr(Y));

        assertArrayEquals(le(4).putInt(1000).array(), layout.values().get(0));
        assertArrayEquals(le(8).putDouble(-2.5).array(), layout.values().get(1));
        assertArrayEquals(le(8).putLong(X.address()).array(), layout.values().get(2));
        assertArrayEquals(le(8).putLong(Y.address()).array(), layout.values().get(3));

        // u32 at 0, then the f64 is aligned up to 8 (4 bytes of padding), then two u64.
        assertEquals(0, layout.offset(0));
        assertEquals(8, layout.offset(1));
        assertEquals(16, layout.offset(2));
        assertEquals(24, layout.offset(3));
        byte[] expected = le(32).putInt(0, 1000).putDouble(8, -2.5).putLong(16, X.address()).putLong(24, Y.address()).array();
        assertArrayEquals(expected, layout.buffer());
    }

    @Test
    void aByValueStructIsOneParameterOfItsDeclaredSize() {
        GpuKernel affine = PtxKernelStub.of("emulator_selftest", "affine2d_struct_f32");
        // Affine2d<float>{x, y, rows, cols, ld_x, ld_y, scale, shift} as the C++ compiler lays it out.
        byte[] struct = le(40).putLong(X.address()).putLong(Y.address()).putInt(3).putInt(5).putInt(8).putInt(6)
                .putFloat(2f).putFloat(-1f).array();
        KernelParamLayout layout = KernelParamLayout.of(affine, KernelArgs.of().bytes(struct));
        assertEquals(1, layout.values().size());
        assertArrayEquals(struct, layout.values().get(0));
        assertArrayEquals(struct, layout.buffer());
    }

    @Test
    void mismatchedArgumentsAreRejectedBeforePacking() {
        GpuKernel axpy = PtxKernelStub.of("emulator_selftest", "axpy_f32");
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> KernelParamLayout.of(axpy, KernelArgs.of().i32(1).f32(2f).ptr(X)));
        assertTrue(count.getMessage().contains("axpy_f32 takes 4 parameters"), count.getMessage());

        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> KernelParamLayout.of(axpy, KernelArgs.of().i32(1).f64(2.0).ptr(X).ptr(Y)));
        assertTrue(size.getMessage().contains("parameter 1"), size.getMessage());

        IllegalArgumentException kind = assertThrows(IllegalArgumentException.class,
                () -> KernelParamLayout.of(axpy, KernelArgs.of().i32(1).i32(2).ptr(X).ptr(Y)));
        assertTrue(kind.getMessage().contains("parameter 1") && kind.getMessage().contains("I32"), kind.getMessage());

        GpuKernel affine = PtxKernelStub.of("emulator_selftest", "affine2d_struct_f64");
        IllegalArgumentException struct = assertThrows(IllegalArgumentException.class,
                () -> KernelParamLayout.of(affine, KernelArgs.of().bytes(new byte[40])));
        assertTrue(struct.getMessage().contains("48 bytes"), struct.getMessage());
    }

    @Test
    void alignUpRoundsToTheNextMultiple() {
        assertEquals(0, KernelParamLayout.alignUp(0, 8));
        assertEquals(8, KernelParamLayout.alignUp(1, 8));
        assertEquals(8, KernelParamLayout.alignUp(8, 8));
        assertEquals(12, KernelParamLayout.alignUp(9, 4));
    }
}
