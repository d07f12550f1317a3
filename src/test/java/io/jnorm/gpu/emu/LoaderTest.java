package io.jnorm.gpu.emu;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuKernel;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.KernelParam;
import io.jnorm.gpu.LaunchConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.jnorm.gpu.emu.EmuTestSupport.expectFault;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Module loading: rejection of the unknown at load time, operand forms, params, calls, locals. */
class LoaderTest {
    private static final String HEADER = ".version 9.0\n.target sm_75\n.address_size 64\n";

    @Test
    void unknownOpcodeIsRejectedAtLoadWithItsLine() {
        String ptx = HEADER + ".visible .entry k(.param .u64 p)\n{\n  .reg .b32 %r<2>;\n"
                + "  mov.u32 %r1, 1;\n  cp.async.ca.shared.global [%r1], [%r1], 4;\n  ret;\n}\n";
        try (PtxEmulator emu = new PtxEmulator()) {
            expectFault("EMU_UNSUPPORTED_PTX", () -> emu.loadModule("bad.ptx", ptx),
                    "bad.ptx:8", "unsupported instruction cp", "cp.async.ca.shared.global [%r1], [%r1], 4;");
        }
    }

    @Test
    void unknownModifierAndDirectiveAreRejected() {
        String mod = HEADER + ".visible .entry k()\n{\n  .reg .f32 %f<3>;\n  add.rnx.f32 %f1, %f2, %f2;\n  ret;\n}\n";
        String dir = HEADER + ".weird 3;\n";
        try (PtxEmulator emu = new PtxEmulator()) {
            expectFault("EMU_UNSUPPORTED_PTX", () -> emu.loadModule("mod.ptx", mod), "mod.ptx:7", "modifier .rnx");
            expectFault("EMU_UNSUPPORTED_PTX", () -> emu.loadModule("dir.ptx", dir), "dir.ptx:4", ".weird");
        }
    }

    @Test
    void entryListAndUnknownKernel() {
        try (PtxEmulator emu = new PtxEmulator()) {
            GpuModule m = emu.loadModule("kernels.ptx", EmuTestSupport.resource("kernels.ptx"));
            assertTrue(m.entryNames().containsAll(List.of("reduce_f32", "matmul_f64", "copy_f32x4")));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> emu.kernel(m, "nope"));
            assertTrue(e.getMessage().contains("reduce_f32"), e.getMessage());
        }
    }

    /** Struct parameters, local arrays, a non-inlined .func call, dynamic shared memory and expf (fma.rm, ex2). */
    @Test
    void structParamLocalArrayCallAndDynamicShared() {
        try (PtxEmulator emu = new PtxEmulator()) {
            GpuModule m = emu.loadModule("features.ptx", EmuTestSupport.resource("features.ptx"));
            GpuKernel sk = emu.kernel(m, "structk");
            assertEquals(new KernelParam("structk_param_0", "b8", 32, 8), sk.params().get(0));
            DevicePointer out = emu.alloc(4 * 64);
            emu.memsetZero(out, 0, 4 * 64);
            byte[] s = new byte[32];
            java.nio.ByteBuffer bb = java.nio.ByteBuffer.wrap(s).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            bb.putInt(0, 3).putDouble(8, 0.5).putFloat(16, 10f).putFloat(20, 20f).putFloat(24, 30f);
            emu.launch(sk, LaunchConfig.of1d(1, 6), KernelArgs.of().bytes(s).ptr(out));
            float[] got = new float[6];
            emu.copyToHost(got, 0, out, 0, 6);
            assertArrayEquals(new float[] {13.5f, 23.5f, 33.5f, 13.5f, 23.5f, 33.5f}, got);

            float[] init = {1, 2, 3, 4, 5, 6, 7, 8};
            emu.copyToDevice(out, 0, init, 0, 8);
            emu.launch(emu.kernel(m, "localarr"), LaunchConfig.of1d(1, 8), KernelArgs.of().ptr(out).i32(5));
            emu.copyToHost(got, 0, out, 0, 1);
            assertEquals(6f * 5, got[0]);

            float[] vals = new float[32];
            for (int i = 0; i < 32; i++) {
                vals[i] = i * 0.5f;
            }
            emu.copyToDevice(out, 0, vals, 0, 32);
            emu.launch(emu.kernel(m, "callk"), LaunchConfig.of1d(1, 32), KernelArgs.of().ptr(out));
            float[] called = new float[32];
            emu.copyToHost(called, 0, out, 0, 32);
            for (int i = 0; i < 32; i++) {
                assertEquals(Math.fma((float) i, vals[i], 1f), called[i], 0f);
            }

            float[] x = new float[64];
            for (int i = 0; i < 64; i++) {
                x[i] = 1 + i * 0.125f;
            }
            emu.copyToDevice(out, 0, x, 0, 64);
            // one warp: dyn reads out[0] and out[1], which other warps would overwrite (a race)
            emu.launch(emu.kernel(m, "dyn"), LaunchConfig.of1d(1, 32).withDynamicShared(32 * 4), KernelArgs.of().ptr(out));
            float[] y = new float[32];
            emu.copyToHost(y, 0, out, 0, 32);
            for (int t = 0; t < 32; t++) {
                double ref = (31 - t) + Math.exp(x[t]) + Math.sqrt(x[0]) + 1.0 / x[1];
                assertEquals(ref, y[t], 4e-6 * Math.abs(ref), "dyn element " + t);
            }
        }
    }

    @Test
    void moduleGlobalsConstantsAndScopedRegisters() {
        String ptx = HEADER + """
                .const .align 4 .f32 scale[2] = {0f40000000, 0f40400000};
                .global .align 4 .u32 counter;
                .visible .entry k(.param .u64 out)
                {
                  .reg .b32 %r<4>;
                  .reg .f32 %f<3>;
                  .reg .b64 %rd<4>;
                  ld.param.u64 %rd1, [out];
                  ld.const.f32 %f1, [scale+4];
                  {
                    .reg .f32 %f1;
                    mov.f32 %f1, 0f41200000;
                    mov.f32 %f2, %f1;
                  }
                  add.f32 %f1, %f1, %f2;
                  atom.global.add.u32 %r1, [counter], 1;
                  mov.u64 %rd2, counter;
                  ld.global.u32 %r2, [%rd2];
                  cvta.to.global.u64 %rd3, %rd1;
                  st.global.f32 [%rd3], %f1;
                  st.global.u32 [%rd3+4], %r2;
                  ret;
                }
                """;
        try (PtxEmulator emu = new PtxEmulator()) {
            GpuModule m = emu.loadModule("globals.ptx", ptx);
            DevicePointer out = emu.alloc(8);
            emu.launch(emu.kernel(m, "k"), LaunchConfig.of1d(1, 1), KernelArgs.of().ptr(out));
            float[] f = new float[1];
            int[] i = new int[2];
            emu.copyToHost(f, 0, out, 0, 1);
            emu.copyToHost(i, 0, out, 0, 2);
            assertEquals(13f, f[0], "3 (const) + 10 (inner scope)");
            assertEquals(1, i[1], "the module global counter");
            emu.launch(emu.kernel(m, "k"), LaunchConfig.of1d(1, 1), KernelArgs.of().ptr(out));
            emu.copyToHost(i, 0, out, 0, 2);
            assertEquals(2, i[1], "module globals persist across launches");
        }
    }
}
